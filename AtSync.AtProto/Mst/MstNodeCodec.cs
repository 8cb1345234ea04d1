using System.Buffers;
using AtSync.AtProto.Cids;
using AtSync.AtProto.DagCbor;

namespace AtSync.AtProto.Mst;

/// <summary>
/// DAG-CBOR form of an MST node: <c>{e: [{k: key suffix, p: prefix length, t: right subtree|null, v: value}], l: left subtree|null}</c>.
/// Decoding is strict: exactly these fields, keys valid and strictly increasing, each <c>p</c> the true common prefix
/// with the previous key — so a decoded node re-encodes to the same bytes (and the same CID).
/// </summary>
public static class MstNodeCodec
{
    /// <summary>Most entries one node may hold (a real node holds a handful; the bound caps work on hostile input).</summary>
    public const int MaxEntries = 4096;

    /// <summary>Bytes of one CID link: tag 42 (2), a 37-byte byte-string header (2), 0x00, the 36-byte CID.</summary>
    private const int LinkLength = 41;

    public static byte[] Encode(MstNodeData node)
    {
        ArgumentNullException.ThrowIfNull(node);
        return Encode(node.Left, node.Entries is MstEntryData[] array ? array : [.. node.Entries]);
    }

    /// <summary>Encodes a node given as its left subtree and entries (the tree's encoder passes a pooled span).</summary>
    internal static byte[] Encode(Cid? left, ReadOnlySpan<MstEntryData> entries)
    {

        // Written straight into one buffer (sized for the worst case of every header), then copied out once: the
        // same bytes DagCborWriter gives (MstInterop vectors), without its growth and string transcoding per key.
        var bound = 16 + LinkLength;
        for (var i = 0; i < entries.Length; i++)
        {
            bound += entries[i].Key.Length + 32 + (2 * LinkLength);
        }

        byte[]? rented = null;
        var buffer = bound <= 2048 ? stackalloc byte[2048] : (rented = ArrayPool<byte>.Shared.Rent(bound));
        try
        {
            buffer[0] = 0xa2; // map(2)
            buffer[1] = 0x61; // "e"
            buffer[2] = (byte)'e';
            var n = 3 + DagCborWriter.WriteHeader(buffer[3..], 4, (ulong)entries.Length);
            ReadOnlySpan<byte> previous = default;
            for (var i = 0; i < entries.Length; i++)
            {
                var entry = entries[i];
                var prefix = MstKey.CommonPrefixLength(previous, entry.Key);
                var suffix = entry.Key.AsSpan(prefix);
                buffer[n++] = 0xa4; // map(4)
                buffer[n++] = 0x61;
                buffer[n++] = (byte)'k';
                n += DagCborWriter.WriteHeader(buffer[n..], 2, (ulong)suffix.Length);
                suffix.CopyTo(buffer[n..]);
                n += suffix.Length;
                buffer[n++] = 0x61;
                buffer[n++] = (byte)'p';
                n += DagCborWriter.WriteHeader(buffer[n..], 0, (ulong)prefix);
                buffer[n++] = 0x61;
                buffer[n++] = (byte)'t';
                n += WriteNullableLink(buffer[n..], entry.Right);
                buffer[n++] = 0x61;
                buffer[n++] = (byte)'v';
                n += WriteLink(buffer[n..], entry.Value);
                previous = entry.Key;
            }

            buffer[n++] = 0x61;
            buffer[n++] = (byte)'l';
            n += WriteNullableLink(buffer[n..], left);
            return buffer[..n].ToArray();
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    private static int WriteNullableLink(Span<byte> destination, Cid? cid)
    {
        if (cid is { } c)
        {
            return WriteLink(destination, c);
        }

        destination[0] = 0xf6; // null
        return 1;
    }

    /// <summary>As <see cref="DagCborWriter.WriteCid"/>.</summary>
    private static int WriteLink(Span<byte> destination, Cid cid)
    {
        destination[0] = 0xd8;
        destination[1] = 42;
        destination[2] = 0x58;
        destination[3] = Cid.BinaryLength + 1;
        destination[4] = 0x00;
        cid.WriteBytes(destination.Slice(5, Cid.BinaryLength));
        return LinkLength;
    }

    /// <summary>Decodes a node; <see cref="MstFormatException"/> (or a DAG-CBOR error) when it is not a canonical MST node.</summary>
    public static MstNodeData Decode(ReadOnlyMemory<byte> block)
    {
        try
        {
            return DecodeCore(block.Span);
        }
        catch (DagCborException ex)
        {
            throw new MstFormatException($"MST node is not valid DAG-CBOR: {ex.Reason}", ex);
        }
        catch (InvalidOperationException ex)
        {
            throw new MstFormatException($"MST node has a field of the wrong type: {ex.Message}", ex);
        }
    }

    private static MstNodeData DecodeCore(ReadOnlySpan<byte> block)
    {
        // A node has one shape: each header and key is matched as its exact canonical bytes first (what the strict
        // reader would accept, nothing else), and only a mismatch goes the general way to name the problem.
        var reader = new DagCborReader(block);
        if (!reader.TryReadLiteral([0xa2]) && (reader.PeekKind() != DagCborKind.Map || reader.ReadMapHeader() != 2))
        {
            throw new MstFormatException("an MST node is a map of exactly 'e' and 'l'");
        }

        var order = default(MapKeyOrder);
        ExpectKey(ref reader, ref order, [0x61, (byte)'e']);
        var count = reader.ReadArrayHeader();
        if (count > MaxEntries)
        {
            throw new MstFormatException($"MST node has {count} entries, more than {MaxEntries}");
        }

        var entries = new MstEntryData[count];
        byte[] previous = [];
        for (var i = 0; i < count; i++)
        {
            entries[i] = ReadEntry(ref reader, previous, i);
            previous = entries[i].Key;
        }

        ExpectKey(ref reader, ref order, [0x61, (byte)'l']);
        var left = reader.ReadNullableCid();
        reader.EnsureEnd();
        return new MstNodeData(left, entries);
    }

    private static MstEntryData ReadEntry(ref DagCborReader reader, byte[] previous, int index)
    {
        if (!reader.TryReadLiteral([0xa4]) && (reader.PeekKind() != DagCborKind.Map || reader.ReadMapHeader() != 4))
        {
            throw new MstFormatException($"MST entry {index} is not a map of exactly 'k', 'p', 't', 'v'");
        }

        var order = default(MapKeyOrder);
        ExpectKey(ref reader, ref order, [0x61, (byte)'k']);
        var suffix = reader.ReadBytes();
        ExpectKey(ref reader, ref order, [0x61, (byte)'p']);
        var prefix = reader.ReadInt64();
        ExpectKey(ref reader, ref order, [0x61, (byte)'t']);
        var right = reader.ReadNullableCid();
        ExpectKey(ref reader, ref order, [0x61, (byte)'v']);
        var value = reader.ReadCid();

        if (prefix < 0 || prefix > previous.Length || (index == 0 && prefix != 0))
        {
            throw new MstFormatException($"MST entry {index} has prefix length {prefix} against a previous key of {previous.Length} bytes");
        }

        var p = (int)prefix;
        if (p < previous.Length && suffix.Length > 0 && suffix[0] == previous[p])
        {
            throw new MstFormatException($"MST entry {index} does not compress its key by the whole common prefix");
        }

        var key = new byte[p + suffix.Length];
        previous.AsSpan(0, p).CopyTo(key);
        suffix.CopyTo(key.AsSpan(p));
        if (!MstKey.IsValid(key))
        {
            throw new MstFormatException($"MST entry {index} has a key that is not a valid repository path");
        }

        if (index > 0 && MstKey.Compare(previous, key) >= 0)
        {
            throw new MstFormatException($"MST entry {index} is not after the previous key");
        }

        return new MstEntryData(key, value, right);
    }

    /// <summary>The one-letter key <paramref name="encoded"/> (<c>0x61</c> + the letter) must come next.</summary>
    private static void ExpectKey(ref DagCborReader reader, ref MapKeyOrder order, ReadOnlySpan<byte> encoded)
    {
        if (!reader.TryReadLiteral(encoded))
        {
            Expect(reader.ReadMapKey(ref order), encoded[1..]);
        }
    }

    private static void Expect(ReadOnlySpan<byte> key, ReadOnlySpan<byte> expected)
    {
        if (!key.SequenceEqual(expected))
        {
            throw new MstFormatException($"unexpected MST field '{System.Text.Encoding.UTF8.GetString(key)}' (expected '{System.Text.Encoding.UTF8.GetString(expected)}')");
        }
    }
}
