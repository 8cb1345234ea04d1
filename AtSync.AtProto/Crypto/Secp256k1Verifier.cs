using Org.BouncyCastle.Crypto.EC;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using BcBigInteger = Org.BouncyCastle.Math.BigInteger;

namespace AtSync.AtProto.Crypto;

/// <summary>
/// secp256k1 ECDSA verification. Native libsecp256k1 (Bitcoin Core's curve library, bundled for each runtime by
/// Secp256k1.Net) is about five times faster than BouncyCastle and NBitcoin.Secp256k1's C# port, and far faster than
/// OpenSSL 3's generic curve code (AtSync.Benchmarks VerifyBackendBenchmarks); BouncyCastle stays as the fallback where
/// the native library cannot load. libsecp256k1 itself refuses high-S signatures; callers check the low-S shape first
/// anyway (<see cref="LowS"/>), so both backends give the same verdicts. Immutable; safe across threads (verification
/// only reads the shared context).
/// </summary>
internal abstract class Secp256k1Verifier
{
    private static readonly Lazy<Secp256k1Net.Secp256k1?> Native = new(LoadNative);

    /// <summary>True when the native backend is in use.</summary>
    public static bool IsNative => Native.Value is not null;

    /// <summary>From a 33-byte compressed point already checked to be on the curve.</summary>
    public static Secp256k1Verifier Create(ReadOnlySpan<byte> compressed) =>
        Native.Value is { } native ? new NativeVerifier(native, compressed) : new BouncyCastleVerifier(compressed);

    /// <summary>Verifies a 64-byte r ‖ s signature over a SHA-256 digest.</summary>
    public abstract bool VerifyHash(ReadOnlySpan<byte> sha256, ReadOnlySpan<byte> signature);

    private static Secp256k1Net.Secp256k1? LoadNative()
    {
        try
        {
            return new Secp256k1Net.Secp256k1();
        }
        catch (Exception ex) when (ex is DllNotFoundException or BadImageFormatException or EntryPointNotFoundException or TypeInitializationException)
        {
            return null;
        }
    }

    private sealed class NativeVerifier : Secp256k1Verifier
    {
        private readonly Secp256k1Net.Secp256k1 _secp;
        private readonly byte[] _key = new byte[64];

        public NativeVerifier(Secp256k1Net.Secp256k1 secp, ReadOnlySpan<byte> compressed)
        {
            _secp = secp;
            if (!secp.EcPubkeyParse(_key, compressed))
            {
                throw new KeyFormatException("Not a secp256k1 point.");
            }
        }

        public override bool VerifyHash(ReadOnlySpan<byte> sha256, ReadOnlySpan<byte> signature)
        {
            if (signature.Length != 64 || sha256.Length != 32)
            {
                return false;
            }

            Span<byte> sig = stackalloc byte[64];
            return _secp.EcdsaSignatureParseCompact(sig, signature) && _secp.EcdsaVerify(sig, sha256, _key);
        }
    }

    private sealed class BouncyCastleVerifier : Secp256k1Verifier
    {
        private static readonly ECDomainParameters Domain = new(CustomNamedCurves.GetByName("secp256k1"));
        private readonly ECPublicKeyParameters _key;

        public BouncyCastleVerifier(ReadOnlySpan<byte> compressed) => _key = new ECPublicKeyParameters(Domain.Curve.DecodePoint(compressed.ToArray()), Domain);

        public override bool VerifyHash(ReadOnlySpan<byte> sha256, ReadOnlySpan<byte> signature)
        {
            if (signature.Length != 64)
            {
                return false;
            }

            // ECDsaSigner keeps only the key; one per call keeps this thread-safe without a lock.
            var verifier = new ECDsaSigner();
            verifier.Init(false, _key);
            return verifier.VerifySignature(sha256.ToArray(), new BcBigInteger(1, signature[..32]), new BcBigInteger(1, signature[32..]));
        }
    }
}
