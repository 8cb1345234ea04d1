using System.Security.Cryptography;

namespace AtSync.AtProto.Crypto;

/// <summary>
/// A private signing key (P-256 or secp256k1) producing atproto signatures: 64-byte low-S r ‖ s over SHA-256.
/// <see cref="ToString"/> never shows the private key.
/// </summary>
public sealed class SigningKey : IDisposable
{
    private readonly ECDsa _ecdsa;
    private readonly Lock _lock = new();

    private SigningKey(KeyCurve curve, ECDsa ecdsa)
    {
        Curve = curve;
        _ecdsa = ecdsa;
        PublicKey = PublicKey.FromPoint(curve, ecdsa.ExportParameters(false).Q);
    }

    public KeyCurve Curve { get; }

    public PublicKey PublicKey { get; }

    /// <summary>The public key as <c>did:key</c>.</summary>
    public string DidKey => PublicKey.ToDidKey();

    public static SigningKey Generate(KeyCurve curve) => new(curve, ECDsa.Create(CurveMath.For(curve).NamedCurve));

    /// <summary>From the 32-byte big-endian private scalar.</summary>
    public static SigningKey Import(KeyCurve curve, ReadOnlySpan<byte> privateKey)
    {
        if (privateKey.Length != 32)
        {
            throw new KeyFormatException("A private key is 32 bytes.");
        }
        try
        {
            var ecdsa = ECDsa.Create(new ECParameters { Curve = CurveMath.For(curve).NamedCurve, D = privateKey.ToArray() });
            return new SigningKey(curve, ecdsa);
        }
        catch (CryptographicException)
        {
            throw new KeyFormatException($"Not a valid {curve} private key.");
        }
    }

    /// <summary>Signs SHA-256 of <paramref name="data"/>: 64 bytes r ‖ s, low-S.</summary>
    public byte[] Sign(ReadOnlySpan<byte> data)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(data, hash);
        byte[] signature;
        lock (_lock)
        {
            signature = _ecdsa.SignHash(hash.ToArray(), DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        }
        return LowS.Normalize(Curve, signature);
    }

    public override string ToString() => $"SigningKey {{ {Curve}, {DidKey} }}";

    public void Dispose() => _ecdsa.Dispose();
}
