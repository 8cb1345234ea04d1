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

        var bytes = MstNodeCodec.Encode(ToData(node));
        var cid = Cid.ForDagCbor(bytes);
        node.SetEncoded(cid, bytes);
        return cid;
    }

    public static MstNodeData ToData(MstNode node)
    {
        var items = node.Items;
        Cid? left = null;
        var start = 0;
        if (items.Count > 0 && items[0].IsChild)
        {
            left = CidOf(items[0].Child!);
            start = 1;
        }

        var entries = new List<MstEntryData>(items.Count);
        for (var i = start; i < items.Count; i++)
        {
            var item = items[i];
            Cid? right = null;
            if (i + 1 < items.Count && items[i + 1].IsChild)
            {
                right = CidOf(items[i + 1].Child!);
                i++;
            }

            entries.Add(new MstEntryData(item.Key!, item.Value, right));
        }

        return new MstNodeData(left, entries);
    }
}
