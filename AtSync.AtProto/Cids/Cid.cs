using System.Runtime.InteropServices;
using AtSync.AtProto.Crypto;

namespace AtSync.AtProto.Cids;

/// <summary>
/// A content identifier in the form AT Protocol uses: CIDv1, codec dag-cbor (0x71) or raw (0x55), sha2-256 multihash.
/// A small value type (codec + 32-byte digest); equality and hashing never allocate.
/// String form: multibase base32 lower (<c>b…</c>, 59 characters). Binary form: 36 bytes
/// <c>01 codec 12 20 digest</c> (inside DAG-CBOR tag 42 it is preceded by a 0x00 multibase byte).
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public readonly struct Cid : IEquatable<Cid>, ISpanFormattable
{
    public const byte DagCborCodec = 0x71;
    public const byte RawCodec = 0x55;
    public const byte Sha256Code = 0x12;
    public const int DigestLength = 32;

    /// <summary>Length of the binary CID.</summary>
    public const int BinaryLength = 36;

    /// <summary>Length of the string form (<c>b</c> + base32 of the 36 bytes).</summary>
    public const int StringLength = 59;

    private readonly ulong _d0;
    private readonly ulong _d1;
    private readonly ulong _d2;
    private readonly ulong _d3;
    private readonly byte _codec;

    private Cid(byte codec, ReadOnlySpan<byte> digest)
    {
        _codec = codec;
        _d0 = MemoryMarshal.Read<ulong>(digest);
        _d1 = MemoryMarshal.Read<ulong>(digest[8..]);
        _d2 = MemoryMarshal.Read<ulong>(digest[16..]);
        _d3 = MemoryMarshal.Read<ulong>(digest[24..]);
    }

    /// <summary>The multicodec of the content: <see cref="DagCborCodec"/> or <see cref="RawCodec"/>; 0 for <c>default</c>.</summary>
    public byte Codec => _codec;

    public bool IsDagCbor => _codec == DagCborCodec;

    public bool IsRaw => _codec == RawCodec;

    /// <summary>True for <c>default(Cid)</c>, which is not a valid CID.</summary>
    public bool IsEmpty => _codec == 0;

    /// <summary>Builds a CID from a codec and an existing sha2-256 digest.</summary>
    public static Cid FromDigest(byte codec, ReadOnlySpan<byte> sha256Digest)
    {
        if (codec is not (DagCborCodec or RawCodec))
        {
            throw new CidFormatException($"unsupported CID codec 0x{codec:x2} (dag-cbor 0x71 and raw 0x55 only)");
        }

        if (sha256Digest.Length != DigestLength)
        {
            throw new CidFormatException($"sha2-256 digest must be 32 bytes, got {sha256Digest.Length}");
        }

        return new Cid(codec, sha256Digest);
    }

    /// <summary>Hashes <paramref name="content"/> with sha2-256 and returns its CID under <paramref name="codec"/>.</summary>
    public static Cid Compute(ReadOnlySpan<byte> content, byte codec = DagCborCodec)
    {
        Span<byte> digest = stackalloc byte[DigestLength];
        Sha256Digest.Hash(content, digest);
        return FromDigest(codec, digest);
    }

    /// <summary>The CID of a DAG-CBOR block.</summary>
    public static Cid ForDagCbor(ReadOnlySpan<byte> block) => Compute(block, DagCborCodec);

    /// <summary>The CID of raw bytes (e.g. a blob).</summary>
    public static Cid ForRaw(ReadOnlySpan<byte> content) => Compute(content, RawCodec);

    /// <summary>True when <paramref name="content"/> hashes to this CID's digest.</summary>
    public bool Matches(ReadOnlySpan<byte> content)
    {
        Span<byte> digest = stackalloc byte[DigestLength];
        Sha256Digest.Hash(content, digest);
        return MemoryMarshal.Read<ulong>(digest) == _d0
            && MemoryMarshal.Read<ulong>(digest[8..]) == _d1
            && MemoryMarshal.Read<ulong>(digest[16..]) == _d2
            && MemoryMarshal.Read<ulong>(digest[24..]) == _d3;
    }

    /// <summary>Copies the 32-byte sha2-256 digest.</summary>
    public void CopyDigestTo(Span<byte> destination)
    {
        MemoryMarshal.Write(destination, in _d0);
        MemoryMarshal.Write(destination[8..], in _d1);
        MemoryMarshal.Write(destination[16..], in _d2);
        MemoryMarshal.Write(destination[24..], in _d3);
    }

    /// <summary>Writes the 36-byte binary CID.</summary>
    public void WriteBytes(Span<byte> destination)
    {
        EnsureNotEmpty();
        destination[0] = 0x01;
        destination[1] = _codec;
        destination[2] = Sha256Code;
        destination[3] = DigestLength;
        CopyDigestTo(destination.Slice(4, DigestLength));
    }

    public byte[] ToBytes()
    {
        var bytes = new byte[BinaryLength];
        WriteBytes(bytes);
        return bytes;
    }

    /// <summary>Reads exactly one 36-byte binary CID (no leading 0x00), throwing <see cref="CidFormatException"/>.</summary>
    public static Cid ReadBytes(ReadOnlySpan<byte> binary)
    {
        var error = TryReadPrefix(binary, out var cid, out var consumed);
        if (error is not null)
        {
            throw new CidFormatException(error, consumed);
        }

        if (consumed != binary.Length)
        {
            throw new CidFormatException($"{binary.Length - consumed} unexpected bytes after the CID", consumed);
        }

        return cid;
    }

    /// <summary>
    /// Reads a binary CID at the start of <paramref name="binary"/> (as in a CAR block).
    /// Returns null on success, else the reason (and <paramref name="consumed"/> is the offset of the problem).
    /// </summary>
    public static string? TryReadPrefix(ReadOnlySpan<byte> binary, out Cid cid, out int consumed)
    {
        cid = default;
        consumed = 0;
        if (binary.Length < 2)
        {
            return "CID truncated";
        }

        if (binary[0] == Sha256Code && binary[1] == DigestLength)
        {
            return "CIDv0 is not allowed (AT Protocol uses CIDv1)";
        }

        if (binary[0] != 0x01)
        {
            return $"unsupported CID version byte 0x{binary[0]:x2}";
        }

        consumed = 1;
        var codec = binary[1];
        if (codec is not (DagCborCodec or RawCodec))
        {
            return $"unsupported CID codec 0x{codec:x2} (dag-cbor 0x71 and raw 0x55 only)";
        }

        consumed = 2;
        if (binary.Length < 4)
        {
            return "CID truncated";
        }

        if (binary[2] != Sha256Code)
        {
            return $"unsupported multihash 0x{binary[2]:x2} (sha2-256 0x12 only)";
        }

        consumed = 3;
        if (binary[3] != DigestLength)
        {
            return $"sha2-256 digest length must be 32, got {binary[3]}";
        }

        consumed = 4;
        if (binary.Length < BinaryLength)
        {
            return "CID digest truncated";
        }

        cid = new Cid(codec, binary.Slice(4, DigestLength));
        consumed = BinaryLength;
        return null;
    }

    /// <summary>Parses the strict string form (<c>b</c> + base32 lower, CIDv1, dag-cbor/raw, sha2-256).</summary>
    public static Cid Parse(ReadOnlySpan<char> text)
    {
        var error = TryParseCore(text, out var cid);
        if (error is not null)
        {
            throw new CidFormatException(error);
        }

        return cid;
    }

    public static Cid Parse(string text) => Parse(text.AsSpan());

    public static bool TryParse(ReadOnlySpan<char> text, out Cid cid) => TryParseCore(text, out cid) is null;

    /// <summary>Like <see cref="TryParse"/>, also giving the reason for a failure.</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out Cid cid, out string? error)
    {
        error = TryParseCore(text, out cid);
        return error is null;
    }

    private static string? TryParseCore(ReadOnlySpan<char> text, out Cid cid)
    {
        cid = default;
        if (text.IsEmpty)
        {
            return "empty CID";
        }

        if (text.Length >= 2 && text[0] == 'Q' && text[1] == 'm')
        {
            return "CIDv0 is not allowed (AT Protocol uses CIDv1)";
        }

        if (text[0] != 'b')
        {
            return $"unsupported multibase prefix '{text[0]}' (base32 lower 'b' only)";
        }

        if (text.Length != StringLength)
        {
            return $"a CID string must be {StringLength} characters, got {text.Length}";
        }

        Span<byte> binary = stackalloc byte[BinaryLength];
        var written = Base32.TryDecode(text[1..], binary);
        if (written != BinaryLength)
        {
            return "invalid base32 in CID";
        }

        return TryReadPrefix(binary, out cid, out _);
    }

    /// <summary>
    /// The loose AT Protocol CID <em>syntax</em> check used for string fields of format <c>cid</c>:
    /// 8–256 characters of <c>[A-Za-z0-9+=]</c>, not a CIDv0 (<c>Qmb…</c>). It does not decode the CID.
    /// </summary>
    public static bool IsValidSyntax(ReadOnlySpan<char> text)
    {
        if (text.Length is < 8 or > 256)
        {
            return false;
        }

        foreach (var c in text)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c == '+' || c == '='))
            {
                return false;
            }
        }

        return !text.StartsWith("Qmb", StringComparison.Ordinal);
    }

    public override string ToString()
    {
        if (IsEmpty)
        {
            return string.Empty;
        }

        return string.Create(StringLength, this, static (span, cid) => cid.TryFormat(span, out _));
    }

    public bool TryFormat(Span<char> destination, out int charsWritten)
    {
        charsWritten = 0;
        if (destination.Length < StringLength || IsEmpty)
        {
            return false;
        }

        Span<byte> binary = stackalloc byte[BinaryLength];
        WriteBytes(binary);
        destination[0] = 'b';
        Base32.Encode(binary, destination[1..]);
        charsWritten = StringLength;
        return true;
    }

    /// <summary>Writes the string form as UTF-8 (59 bytes), e.g. for a JSON writer.</summary>
    public bool TryFormatUtf8(Span<byte> destination, out int bytesWritten)
    {
        bytesWritten = 0;
        if (destination.Length < StringLength || IsEmpty)
        {
            return false;
        }

        Span<byte> binary = stackalloc byte[BinaryLength];
        WriteBytes(binary);
        destination[0] = (byte)'b';
        Base32.EncodeUtf8(binary, destination[1..]);
        bytesWritten = StringLength;
        return true;
    }

    bool ISpanFormattable.TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider)
        => TryFormat(destination, out charsWritten);

    string IFormattable.ToString(string? format, IFormatProvider? formatProvider) => ToString();

    public bool Equals(Cid other)
        => _d0 == other._d0 && _d1 == other._d1 && _d2 == other._d2 && _d3 == other._d3 && _codec == other._codec;

    public override bool Equals(object? obj) => obj is Cid other && Equals(other);

    public override int GetHashCode() => (int)_d0 ^ (int)(_d1 >> 32) ^ _codec;

    public static bool operator ==(Cid left, Cid right) => left.Equals(right);

    public static bool operator !=(Cid left, Cid right) => !left.Equals(right);

    private void EnsureNotEmpty()
    {
        if (IsEmpty)
        {
            throw new InvalidOperationException("default(Cid) has no value.");
        }
    }
}
