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

    public static byte[] Encode(MstNodeData node)
    {
        ArgumentNullException.ThrowIfNull(node);
        var writer = new DagCborWriter(64 + (node.Entries.Count * 96));
        writer.WriteStartMap(2);
        writer.WriteString("e");
        writer.WriteStartArray(node.Entries.Count);
        ReadOnlySpan<byte> previous = default;
        foreach (var entry in node.Entries)
        {
            var prefix = MstKey.CommonPrefixLength(previous, entry.Key);
            writer.WriteStartMap(4);
            writer.WriteString("k");
            writer.WriteBytes(entry.Key.AsSpan(prefix));
            writer.WriteString("p");
            writer.WriteInt64(prefix);
            writer.WriteString("t");
            WriteNullableCid(writer, entry.Right);
            writer.WriteString("v");
            writer.WriteCid(entry.Value);
            previous = entry.Key;
        }

        writer.WriteString("l");
        WriteNullableCid(writer, node.Left);
        return writer.ToArray();
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
        var reader = new DagCborReader(block);
        if (reader.PeekKind() != DagCborKind.Map || reader.ReadMapHeader() != 2)
        {
            throw new MstFormatException("an MST node is a map of exactly 'e' and 'l'");
        }

        var order = default(MapKeyOrder);
        Expect(reader.ReadMapKey(ref order), "e"u8);
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

        Expect(reader.ReadMapKey(ref order), "l"u8);
        var left = reader.ReadNullableCid();
        reader.EnsureEnd();
        return new MstNodeData(left, entries);
    }

    private static MstEntryData ReadEntry(ref DagCborReader reader, byte[] previous, int index)
    {
        if (reader.PeekKind() != DagCborKind.Map || reader.ReadMapHeader() != 4)
        {
            throw new MstFormatException($"MST entry {index} is not a map of exactly 'k', 'p', 't', 'v'");
        }

        var order = default(MapKeyOrder);
        Expect(reader.ReadMapKey(ref order), "k"u8);
        var suffix = reader.ReadBytes();
        Expect(reader.ReadMapKey(ref order), "p"u8);
        var prefix = reader.ReadInt64();
        Expect(reader.ReadMapKey(ref order), "t"u8);
        var right = reader.ReadNullableCid();
        Expect(reader.ReadMapKey(ref order), "v"u8);
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

    private static void Expect(ReadOnlySpan<byte> key, ReadOnlySpan<byte> expected)
    {
        if (!key.SequenceEqual(expected))
        {
            throw new MstFormatException($"unexpected MST field '{System.Text.Encoding.UTF8.GetString(key)}' (expected '{System.Text.Encoding.UTF8.GetString(expected)}')");
        }
    }

    private static void WriteNullableCid(DagCborWriter writer, Cid? cid)
    {
        if (cid is { } c)
        {
            writer.WriteCid(c);
        }
        else
        {
            writer.WriteNull();
        }
    }
}
