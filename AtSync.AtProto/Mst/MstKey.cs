using System.Buffers;
using System.Numerics;

namespace AtSync.AtProto.Mst;

/// <summary>
/// MST keys: <c>collection/rkey</c> paths as UTF-8 bytes, ordered bytewise. A key's layer ("height") is the number
/// of leading zero bits of its SHA-256 divided by two (fanout 4), as the repository spec and
/// testdata/interop/mst/key_heights.json define it.
/// </summary>
public static class MstKey
{
    /// <summary>The bytes a key may hold: <c>A-Za-z0-9 . - _ : ~</c> and the one <c>/</c>.</summary>
    private static readonly SearchValues<byte> KeyBytes =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:~/"u8);

    /// <summary>Longest key the repository spec allows.</summary>
    public const int MaxLength = 1024;

    /// <summary>The layer of <paramref name="key"/> in every MST: leading zero bits of SHA-256(key), halved.</summary>
    public static int Height(ReadOnlySpan<byte> key)
    {
        Span<byte> hash = stackalloc byte[32];
        Crypto.Sha256Digest.Hash(key, hash);
        var zeros = 0;
        foreach (var b in hash)
        {
            if (b == 0)
            {
                zeros += 8;
                continue;
            }

            zeros += BitOperations.LeadingZeroCount((uint)b) - 24;
            break;
        }

        return zeros / 2;
    }

    /// <summary>Length of the common prefix of two keys, in bytes (what a node entry's <c>p</c> records).</summary>
    public static int CommonPrefixLength(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b) => a.CommonPrefixLength(b);

    /// <summary>Bytewise order of keys (the MST's sort order).</summary>
    public static int Compare(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b) => a.SequenceCompareTo(b);

    /// <summary>
    /// True for a key the repository spec allows: 1..1024 bytes of <c>A-Za-z0-9 . - _ : ~</c> with exactly one
    /// <c>/</c>, neither first nor last.
    /// </summary>
    public static bool IsValid(ReadOnlySpan<byte> key)
    {
        if (key.IsEmpty || key.Length > MaxLength)
        {
            return false;
        }

        var slash = key.IndexOf((byte)'/');
        if (slash <= 0 || slash == key.Length - 1 || key[(slash + 1)..].IndexOf((byte)'/') >= 0)
        {
            return false;
        }

        return key.IndexOfAnyExcept(KeyBytes) < 0;
    }
}
