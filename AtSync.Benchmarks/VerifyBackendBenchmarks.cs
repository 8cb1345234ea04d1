using System.Security.Cryptography;
using AtSync.AtProto.Crypto;
using BenchmarkDotNet.Attributes;
using Org.BouncyCastle.Crypto.Signers;
using BcBigInteger = Org.BouncyCastle.Math.BigInteger;

namespace AtSync.Benchmarks;

/// <summary>
/// The candidate ECDSA verification backends side by side, each given the same SHA-256 digest, key and 64-byte
/// low-S signature: NBitcoin.Secp256k1 (a C# port of libsecp256k1), Secp256k1.Net (the native libsecp256k1 it bundles), BouncyCastle's ECDsaSigner, and the platform's
/// ECDsa (OpenSSL) — for secp256k1 and P-256 (NBitcoin is secp256k1 only). Plus the library's own
/// <see cref="PublicKey.VerifyHash"/>, which adds the low-S check to whichever backend it uses, its
/// <see cref="PublicKey.Verify"/> over the data (with SHA-256, as commit checks call it) and did:key parsing.
/// </summary>
[MemoryDiagnoser]
public class VerifyBackendBenchmarks
{
    private SignatureFixture _fixture = null!;
    private NBitcoin.Secp256k1.ECPubKey? _nbKey;
    private static readonly Secp256k1Net.Secp256k1 Native = new();
    private byte[]? _nativeKey;

    [Params(KeyCurve.Secp256k1, KeyCurve.P256)]
    public KeyCurve Curve { get; set; }

    private PublicKey Key => _fixture.Key;
    private byte[] Sig => _fixture.Signature;
    private byte[] Hash => _fixture.Hash;

    [GlobalSetup]
    public void Setup()
    {
        _fixture = SignatureFixture.Create(Curve);
        if (Curve == KeyCurve.Secp256k1 && !NBitcoin.Secp256k1.ECPubKey.TryCreate(Key.Compressed, null, out _, out _nbKey))
        {
            throw new InvalidOperationException("setup: NBitcoin rejects the key");
        }

        if (Curve == KeyCurve.Secp256k1)
        {
            _nativeKey = new byte[64];
            if (!Native.EcPubkeyParse(_nativeKey, Key.Compressed))
            {
                throw new InvalidOperationException("setup: libsecp256k1 rejects the key");
            }
        }

        if ((Curve == KeyCurve.Secp256k1 && !LibSecp256k1()) || !Library() || !BouncyCastle() || !Platform() || (Curve == KeyCurve.Secp256k1 && !NBitcoinSecp256k1()))
        {
            throw new InvalidOperationException("setup: a backend does not verify the signature");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _fixture.Dispose();

    [Benchmark(Baseline = true, Description = "AtSync PublicKey.VerifyHash (low-S + chosen backend)")]
    public bool Library() => Key.VerifyHash(Hash, Sig);

    [Benchmark(Description = "NBitcoin.Secp256k1 ECPubKey.SigVerify")]
    public bool NBitcoinSecp256k1()
    {
        if (_nbKey is null)
        {
            return false; // P-256: not offered by NBitcoin
        }

        return NBitcoin.Secp256k1.SecpECDSASignature.TryCreateFromCompact(Sig, out var sig) && _nbKey.SigVerify(sig!, Hash);
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
        return secp.EcdsaSignatureParseCompact(sig, Sig) && secp.EcdsaVerify(sig, Hash, _nativeKey);
    }

    [Benchmark(Description = "BouncyCastle ECDsaSigner")]
    public bool BouncyCastle()
    {
        var verifier = new ECDsaSigner();
        verifier.Init(false, _fixture.BouncyCastleKey);
        return verifier.VerifySignature(Hash, new BcBigInteger(1, Sig, 0, 32), new BcBigInteger(1, Sig, 32, 32));
    }

    [Benchmark(Description = "AtSync PublicKey.Verify (SHA-256 of 200 bytes + low-S + chosen backend)")]
    public bool LibraryVerifyData() => Key.Verify(_fixture.Data, Sig);

    [Benchmark(Description = "did:key format + parse (decompress, platform key)")]
    public PublicKey ParseDidKey() => PublicKey.ParseDidKey(Key.ToDidKey());

    [Benchmark(Description = ".NET ECDsa (OpenSSL)")]
    public bool Platform() => _fixture.Platform.VerifyHash(Hash, Sig, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
}
