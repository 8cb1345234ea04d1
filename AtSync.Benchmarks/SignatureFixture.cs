using System.Security.Cryptography;
using AtSync.AtProto.Crypto;
using Org.BouncyCastle.Crypto.EC;
using Org.BouncyCastle.Crypto.Parameters;

namespace AtSync.Benchmarks;

/// <summary>
/// What <see cref="VerifyBackendBenchmarks"/> verifies:
/// a fresh key of <see cref="Curve"/>, 200 bytes (an unsigned commit's size) signed low-S, their SHA-256, and the same
/// public key as BouncyCastle's and the platform's (OpenSSL) key types.
/// </summary>
internal sealed class SignatureFixture : IDisposable
{
    private SignatureFixture(KeyCurve curve)
    {
        Curve = curve;
        using var signer = SigningKey.Generate(curve);
        Data = new byte[200];
        new Random(1).NextBytes(Data);
        Signature = signer.Sign(Data);
        Key = PublicKey.ParseDidKey(signer.DidKey);
        Hash = SHA256.HashData(Data);
        var x9 = CustomNamedCurves.GetByName(curve == KeyCurve.P256 ? "secp256r1" : "secp256k1");
        var q = x9.Curve.DecodePoint(Key.Compressed.ToArray()).Normalize();
        BouncyCastleKey = new ECPublicKeyParameters(q, new ECDomainParameters(x9));
        Platform = ECDsa.Create(new ECParameters
        {
            Curve = curve == KeyCurve.P256 ? ECCurve.NamedCurves.nistP256 : ECCurve.CreateFromFriendlyName("secp256k1"),
            Q = new ECPoint { X = q.AffineXCoord.GetEncoded(), Y = q.AffineYCoord.GetEncoded() },
        });
    }

    public KeyCurve Curve { get; }
    public PublicKey Key { get; }
    public byte[] Data { get; }
    public byte[] Signature { get; }
    public byte[] Hash { get; }
    public ECPublicKeyParameters BouncyCastleKey { get; }
    public ECDsa Platform { get; }

    public static SignatureFixture Create(KeyCurve curve) => new(curve);

    public void Dispose() => Platform.Dispose();
}
