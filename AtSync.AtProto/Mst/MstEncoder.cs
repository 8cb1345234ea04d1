using System.Buffers;
using AtSync.AtProto.Cids;

namespace AtSync.AtProto.Mst;

/// <summary>Turns in-memory nodes into their stored form and CIDs (bottom-up, only for nodes changed since last time).</summary>
internal static class MstEncoder
{
    public static Cid CidOf(MstNode node)
    {
        if (node.Cid is { } known)
        {
            return known;
        }

        // Children first (each caches its CID), then this node's entries in a pooled buffer: no node data objects.
        var items = node.Items;
        var start = items.Count > 0 && items[0].IsChild ? 1 : 0;
        Cid? left = start == 1 ? CidOf(items[0].Child!) : null;
        var rented = ArrayPool<MstEntryData>.Shared.Rent(Math.Max(1, items.Count));
        try
        {
            var count = 0;
            for (var i = start; i < items.Count; i++)
            {
                var item = items[i];
                Cid? right = null;
                if (i + 1 < items.Count && items[i + 1].IsChild)
                {
                    right = CidOf(items[i + 1].Child!);
                    i++;
                }

                rented[count++] = new MstEntryData(item.Key!, item.Value, right);
            }

            var bytes = MstNodeCodec.Encode(left, rented.AsSpan(0, count));
            var cid = Cid.ForDagCbor(bytes);
            node.SetEncoded(cid, bytes);
            return cid;
        }
        finally
        {
            ArrayPool<MstEntryData>.Shared.Return(rented, clearArray: true);
        }
    }
}
