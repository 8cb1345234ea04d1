namespace AtSync.AtProto.Crypto;

/// <summary>The two elliptic curves AT Protocol signs with.</summary>
public enum KeyCurve
{
    /// <summary>NIST P-256 (secp256r1), JWT alg <c>ES256</c>, multicodec <c>p256-pub</c> 0x1200.</summary>
    P256,

    /// <summary>secp256k1, JWT alg <c>ES256K</c>, multicodec <c>secp256k1-pub</c> 0xe7.</summary>
    Secp256k1,
}
