using System.Security.Cryptography;
using AtSync.AtProto.Crypto;
using BenchmarkDotNet.Attributes;
using Org.BouncyCastle.Crypto.EC;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using BcBigInteger = Org.BouncyCastle.Math.BigInteger;

namespace AtSync.Benchmarks;

/// <summary>
/// The candidate ECDSA verification backends side by side, each given the same SHA-256 digest, key and 64-byte
/// low-S signature: NBitcoin.Secp256k1 (a C# port of libsecp256k1), Secp256k1.Net (the native libsecp256k1 it bundles), BouncyCastle's ECDsaSigner, and the platform's
/// ECDsa (OpenSSL) — for secp256k1 and P-256 (NBitcoin is secp256k1 only). Plus the library's own
/// <see cref="PublicKey.VerifyHash"/>, which adds the low-S check to whichever backend it uses.
/// </summary>
[MemoryDiagnoser]
public class VerifyBackendBenchmarks
{
    private PublicKey _key = null!;
    private byte[] _signature = null!;
    private byte[] _hash = null!;
    private ECPublicKeyParameters _bcKey = null!;
    private ECDsa _platform = null!;
    private NBitcoin.Secp256k1.ECPubKey? _nbKey;
    private static readonly Secp256k1Net.Secp256k1 Native = new();
    private byte[]? _nativeKey;

    [Params(KeyCurve.Secp256k1, KeyCurve.P256)]
    public KeyCurve Curve { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        using var signer = SigningKey.Generate(Curve);
        var data = new byte[200];
        new Random(1).NextBytes(data);
        _signature = signer.Sign(data);
        _key = PublicKey.ParseDidKey(signer.DidKey);
        _hash = SHA256.HashData(data);

        var x9 = CustomNamedCurves.GetByName(Curve == KeyCurve.P256 ? "secp256r1" : "secp256k1");
        var q = x9.Curve.DecodePoint(_key.Compressed.ToArray()).Normalize();
        _bcKey = new ECPublicKeyParameters(q, new ECDomainParameters(x9));
        _platform = ECDsa.Create(new ECParameters
        {
            Curve = Curve == KeyCurve.P256 ? ECCurve.NamedCurves.nistP256 : ECCurve.CreateFromFriendlyName("secp256k1"),
            Q = new ECPoint { X = q.AffineXCoord.GetEncoded(), Y = q.AffineYCoord.GetEncoded() },
        });
        if (Curve == KeyCurve.Secp256k1 && !NBitcoin.Secp256k1.ECPubKey.TryCreate(_key.Compressed, null, out _, out _nbKey))
        {
            throw new InvalidOperationException("setup: NBitcoin rejects the key");
        }

        if (Curve == KeyCurve.Secp256k1)
        {
            _nativeKey = new byte[64];
            if (!Native.EcPubkeyParse(_nativeKey, _key.Compressed))
            {
                throw new InvalidOperationException("setup: libsecp256k1 rejects the key");
            }
        }

        if ((Curve == KeyCurve.Secp256k1 && !LibSecp256k1()) || !Library() || !BouncyCastle() || !Platform() || (Curve == KeyCurve.Secp256k1 && !NBitcoinSecp256k1()))
        {
            throw new InvalidOperationException("setup: a backend does not verify the signature");
        }
    }

    [Benchmark(Baseline = true, Description = "AtSync PublicKey.VerifyHash (low-S + chosen backend)")]
    public bool Library() => _key.VerifyHash(_hash, _signature);

    [Benchmark(Description = "NBitcoin.Secp256k1 ECPubKey.SigVerify")]
    public bool NBitcoinSecp256k1()
    {
        if (_nbKey is null)
        {
            return false; // P-256: not offered by NBitcoin
        }

        return NBitcoin.Secp256k1.SecpECDSASignature.TryCreateFromCompact(_signature, out var sig) && _nbKey.SigVerify(sig!, _hash);
    }

    [Benchmark(Description = "Secp256k1.Net (native libsecp256k1) EcdsaVerify")]
    public bool LibSecp256k1()
    {
        if (_nativeKey is null)
        {
            return false; // P-256: not offered by libsecp256k1
        }

        Span<byte> sig = stackalloc byte[64];
        var secp = Native;
        return secp.EcdsaSignatureParseCompact(sig, _signature) && secp.EcdsaVerify(sig, _hash, _nativeKey);
    }

    [Benchmark(Description = "BouncyCastle ECDsaSigner")]
    public bool BouncyCastle()
    {
        var verifier = new ECDsaSigner();
        verifier.Init(false, _bcKey);
        return verifier.VerifySignature(_hash, new BcBigInteger(1, _signature, 0, 32), new BcBigInteger(1, _signature, 32, 32));
    }

    [Benchmark(Description = ".NET ECDsa (OpenSSL)")]
    public bool Platform() => _platform.VerifyHash(_hash, _signature, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
}
