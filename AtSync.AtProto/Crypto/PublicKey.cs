using System.Security.Cryptography;

namespace AtSync.AtProto.Crypto;

/// <summary>
/// An atproto signing public key (P-256 or secp256k1). Parses and formats <c>did:key</c> and multibase/multicodec
/// (<c>Multikey</c>) encodings, and verifies low-S compact ECDSA signatures over SHA-256. Immutable and thread-safe;
/// the verifying key is built once and reused, so cache instances (e.g. per DID).
/// P-256 verifies with the platform's ECDsa (OpenSSL); secp256k1 with native libsecp256k1 (<see cref="Secp256k1Verifier"/>),
/// the fastest backend measured here (see AtSync.Benchmarks VerifyBackendBenchmarks).
/// </summary>
public sealed class PublicKey : IEquatable<PublicKey>
{
    public const string DidKeyPrefix = "did:key:";

    /// <summary>Multicodec varint of <c>secp256k1-pub</c> (0xe7).</summary>
    private static ReadOnlySpan<byte> Secp256k1Codec => [0xe7, 0x01];

    /// <summary>Multicodec varint of <c>p256-pub</c> (0x1200).</summary>
    private static ReadOnlySpan<byte> P256Codec => [0x80, 0x24];

    private readonly byte[] _compressed;
    private readonly ECDsa? _ecdsa;
    private readonly Secp256k1Verifier? _secp256k1;
    private readonly Lock _lock = new();

    private PublicKey(KeyCurve curve, byte[] x, byte[] y)
    {
        Curve = curve;
        _compressed = new byte[33];
        _compressed[0] = (byte)((y[31] & 1) == 0 ? 0x02 : 0x03);
        x.CopyTo(_compressed, 1);
        if (curve == KeyCurve.Secp256k1)
        {
            _secp256k1 = Secp256k1Verifier.Create(_compressed);
        }
        else
        {
            _ecdsa = ECDsa.Create(new ECParameters
            {
                Curve = CurveMath.For(curve).NamedCurve,
                Q = new ECPoint { X = x, Y = y },
            });
        }
    }

    public KeyCurve Curve { get; }

    /// <summary>Which secp256k1 backend verifies here: <c>libsecp256k1</c> (native, bundled) or <c>BouncyCastle</c> (where the native library cannot load).</summary>
    public static string Secp256k1Backend => Secp256k1Verifier.IsNative ? "libsecp256k1" : "BouncyCastle";

    /// <summary>JWT algorithm name: <c>ES256</c> or <c>ES256K</c>.</summary>
    public string JwtAlgorithm => Curve == KeyCurve.P256 ? "ES256" : "ES256K";

    /// <summary>The 33-byte SEC1 compressed point.</summary>
    public ReadOnlySpan<byte> Compressed => _compressed;

    /// <summary>From a SEC1 point: 33 bytes compressed (0x02/0x03) or 65 bytes uncompressed (0x04). Checks it is on the curve.</summary>
    public static PublicKey FromSec1(KeyCurve curve, ReadOnlySpan<byte> point)
    {
        var math = CurveMath.For(curve);
        if (point.Length == 33)
        {
            if (!math.TryDecompress(point, out var x, out var y))
            {
                throw new KeyFormatException($"Not a compressed {curve} point.");
            }
            return new PublicKey(curve, x, y);
        }
        if (point.Length == 65 && point[0] == 0x04)
        {
            var x = point[1..33];
            var y = point[33..];
            if (!math.IsOnCurve(x, y))
            {
                throw new KeyFormatException($"Not a {curve} point.");
            }
            return new PublicKey(curve, x.ToArray(), y.ToArray());
        }
        throw new KeyFormatException($"A {curve} public key is 33 (compressed) or 65 (uncompressed) bytes, not {point.Length}.");
    }

    /// <summary>From the platform's key parameters (X and Y).</summary>
    internal static PublicKey FromPoint(KeyCurve curve, ECPoint q) => new(curve, q.X!, q.Y!);

    /// <summary>Parses <c>did:key:z…</c> (multicodec secp256k1-pub or p256-pub, compressed point).</summary>
    public static PublicKey ParseDidKey(string didKey)
    {
        ArgumentNullException.ThrowIfNull(didKey);
        if (!didKey.StartsWith(DidKeyPrefix, StringComparison.Ordinal))
        {
            throw new KeyFormatException("A did:key starts with 'did:key:'.");
        }
        return ParseMultikey(didKey[DidKeyPrefix.Length..]);
    }

    public static bool TryParseDidKey(string? didKey, out PublicKey? key)
    {
        key = null;
        if (didKey is null)
        {
            return false;
        }
        try
        {
            key = ParseDidKey(didKey);
            return true;
        }
        catch (KeyFormatException)
        {
            return false;
        }
    }

    /// <summary>Parses a <c>Multikey</c> <c>publicKeyMultibase</c>: <c>z</c> + base58btc(multicodec varint ‖ compressed point).</summary>
    public static PublicKey ParseMultikey(string multibase)
    {
        var bytes = DecodeMultibase(multibase);
        var span = bytes.AsSpan();
        if (span.StartsWith(Secp256k1Codec))
        {
            return FromSec1(KeyCurve.Secp256k1, span[Secp256k1Codec.Length..]);
        }
        if (span.StartsWith(P256Codec))
        {
            return FromSec1(KeyCurve.P256, span[P256Codec.Length..]);
        }
        throw new KeyFormatException("Unsupported multicodec: only secp256k1-pub (0xe7) and p256-pub (0x1200) keys are supported.");
    }

    /// <summary>
    /// Parses a legacy <c>EcdsaSecp256r1VerificationKey2019</c>/<c>EcdsaSecp256k1VerificationKey2019</c>
    /// <c>publicKeyMultibase</c>: <c>z</c> + base58btc of the SEC1 point, no multicodec; the curve comes from the type.
    /// </summary>
    public static PublicKey ParseLegacyMultibase(KeyCurve curve, string multibase) => FromSec1(curve, DecodeMultibase(multibase));

    private static byte[] DecodeMultibase(string? multibase)
    {
        if (string.IsNullOrEmpty(multibase) || multibase[0] != 'z')
        {
            throw new KeyFormatException("Only base58btc multibase ('z' prefix) keys are supported.");
        }
        if (!Base58Btc.TryDecode(multibase.AsSpan(1), out var bytes))
        {
            throw new KeyFormatException("The multibase key is not valid base58btc.");
        }
        return bytes;
    }

    /// <summary><c>z</c> + base58btc(multicodec ‖ compressed point): the <c>Multikey</c> form.</summary>
    public string ToMultikey()
    {
        var codec = Curve == KeyCurve.P256 ? P256Codec : Secp256k1Codec;
        Span<byte> buffer = stackalloc byte[2 + 33];
        codec.CopyTo(buffer);
        _compressed.CopyTo(buffer[2..]);
        return "z" + Base58Btc.Encode(buffer);
    }

    /// <summary><c>did:key:z…</c>.</summary>
    public string ToDidKey() => DidKeyPrefix + ToMultikey();

    public override string ToString() => ToDidKey();

    /// <summary>
    /// Verifies an atproto signature of <paramref name="data"/>: exactly 64 bytes r ‖ s (IEEE P1363, not DER) with
    /// s ≤ n/2 (low-S), over SHA-256 of the data. Never throws for bad signatures.
    /// </summary>
    public bool Verify(ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature)
    {
        if (!LowS.IsCompactLowS(Curve, signature))
        {
            return false;
        }
        Span<byte> hash = stackalloc byte[32];
        Sha256Digest.Hash(data, hash);
        return VerifyCompactHash(hash, signature);
    }

    /// <summary>As <see cref="Verify"/> for an already-computed SHA-256 digest.</summary>
    public bool VerifyHash(ReadOnlySpan<byte> sha256, ReadOnlySpan<byte> signature) =>
        sha256.Length == 32 && LowS.IsCompactLowS(Curve, signature) && VerifyCompactHash(sha256, signature);

    private bool VerifyCompactHash(ReadOnlySpan<byte> hash, ReadOnlySpan<byte> signature)
    {
        if (_secp256k1 is not null)
        {
            return _secp256k1.VerifyHash(hash, signature);
        }
        lock (_lock)
        {
            return _ecdsa!.VerifyHash(hash, signature, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        }
    }

    public bool Equals(PublicKey? other) => other is not null && Curve == other.Curve && _compressed.AsSpan().SequenceEqual(other._compressed);

    public override bool Equals(object? obj) => Equals(obj as PublicKey);

    public override int GetHashCode()
    {
        var h = new HashCode();
        h.Add(Curve);
        h.AddBytes(_compressed);
        return h.ToHashCode();
    }
}
