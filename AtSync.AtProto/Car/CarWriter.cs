using System.Buffers;
using AtSync.AtProto.Cids;
using AtSync.AtProto.DagCbor;

namespace AtSync.AtProto.Car;

/// <summary>Writes CAR v1 files (for tests and tools).</summary>
public static class CarWriter
{
    /// <summary>A CAR with <paramref name="roots"/> and the blocks in the order given.</summary>
    public static byte[] Write(IReadOnlyList<Cid> roots, IEnumerable<CarBlock> blocks)
    {
        var header = new DagCborWriter();
        header.WriteStartMap(2);
        header.WriteString("roots");
        header.WriteStartArray(roots.Count);
        foreach (var root in roots)
        {
            header.WriteCid(root);
        }

        header.WriteString("version");
        header.WriteInt64(1);

        var output = new ArrayBufferWriter<byte>();
        WriteVarint(output, (ulong)header.WrittenSpan.Length);
        output.Write(header.WrittenSpan);
        Span<byte> cid = stackalloc byte[Cid.BinaryLength];
        foreach (var block in blocks)
        {
            WriteVarint(output, (ulong)(Cid.BinaryLength + block.Data.Length));
            block.Cid.WriteBytes(cid);
            output.Write(cid);
            output.Write(block.Data.Span);
        }

        return output.WrittenSpan.ToArray();
    }

    /// <summary>A CAR whose blocks are DAG-CBOR byte arrays, each under its computed CID.</summary>
    public static byte[] WriteDagCborBlocks(IReadOnlyList<Cid> roots, params byte[][] blocks)
    {
        var list = new List<CarBlock>(blocks.Length);
        foreach (var block in blocks)
        {
            list.Add(new CarBlock(Cid.ForDagCbor(block), block));
        }

        return Write(roots, list);
    }

    private static void WriteVarint(ArrayBufferWriter<byte> output, ulong value)
    {
        var span = output.GetSpan(10);
        output.Advance(Varint.Write(span, value));
    }
}
