using System.Security.Cryptography;
using AtSync.AtProto.Crypto;
using BenchmarkDotNet.Attributes;
using Org.BouncyCastle.Crypto.EC;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using BcBigInteger = Org.BouncyCastle.Math.BigInteger;

namespace AtSync.Benchmarks;

/// <summary>
/// Commit-signature verification per curve, same key, data and signature (~200 bytes, an unsigned commit's size):
/// the library's <see cref="PublicKey.Verify"/> (low-S check + SHA-256 + the backend it picked per curve) against
/// each candidate backend called directly: the platform ECDsa (OpenSSL) and BouncyCastle's ECDsaSigner.
/// </summary>
[MemoryDiagnoser]
public class SignatureVerifyBenchmarks
{
    private PublicKey _key = null!;
    private byte[] _data = null!;
    private byte[] _signature = null!;
    private byte[] _hash = null!;
    private ECDsaSigner _bcVerifier = null!;
    private ECDsa _platform = null!;
    private BcBigInteger _r = null!;
    private BcBigInteger _s = null!;

    [Params(KeyCurve.P256, KeyCurve.Secp256k1)]
    public KeyCurve Curve { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        using var signer = SigningKey.Generate(Curve);
        _data = new byte[200];
        new Random(1).NextBytes(_data);
        _signature = signer.Sign(_data);
        _key = PublicKey.ParseDidKey(signer.DidKey);
        _hash = SHA256.HashData(_data);

        var x9 = CustomNamedCurves.GetByName(Curve == KeyCurve.P256 ? "secp256r1" : "secp256k1");
        var domain = new ECDomainParameters(x9);
        var q = x9.Curve.DecodePoint(_key.Compressed.ToArray());
        _bcVerifier = new ECDsaSigner();
        _bcVerifier.Init(false, new ECPublicKeyParameters(q, domain));
        var explicitCurve = Curve == KeyCurve.P256 ? ECCurve.NamedCurves.nistP256 : ECCurve.CreateFromFriendlyName("secp256k1");
        _platform = ECDsa.Create(new ECParameters
        {
            Curve = explicitCurve,
            Q = new ECPoint { X = q.Normalize().AffineXCoord.GetEncoded(), Y = q.Normalize().AffineYCoord.GetEncoded() },
        });
        _r = new BcBigInteger(1, _signature, 0, 32);
        _s = new BcBigInteger(1, _signature, 32, 32);
        if (!_key.Verify(_data, _signature) || !BouncyCastleVerify() || !PlatformVerify())
        {
            throw new InvalidOperationException("setup: signature does not verify");
        }
    }

    [Benchmark(Baseline = true, Description = "AtSync PublicKey.Verify (chosen backend)")]
    public bool LibraryVerify() => _key.Verify(_data, _signature);

    [Benchmark(Description = ".NET ECDsa over OpenSSL (SHA-256 + verify)")]
    public bool PlatformVerify() => _platform.VerifyData(_data, _signature, HashAlgorithmName.SHA256);

    [Benchmark(Description = "BouncyCastle ECDsaSigner (SHA-256 + verify)")]
    public bool BouncyCastleVerify()
    {
        var hash = SHA256.HashData(_data);
        return LowS.IsCompactLowS(Curve, _signature) && _bcVerifier.VerifySignature(hash, _r, _s);
    }

    [Benchmark(Description = "did:key format + parse (decompress, platform key)")]
    public PublicKey ParseDidKey() => PublicKey.ParseDidKey(_key.ToDidKey());
}
