using AtSync.AtProto.Cids;

namespace AtSync.AtProto.Mst;

public sealed partial class MstTree
{
    /// <summary>
    /// Removes <paramref name="key"/> from the subtree at <paramref name="node"/>; returns the removed value (null when
    /// absent) and, in <paramref name="remaining"/>, the subtree left (null when it became empty).
    /// </summary>
    private static Cid? RemoveAt(MstNode node, byte[] key, int height, out MstNode? remaining)
    {
        remaining = node;
        if (height > node.Layer)
        {
            return null;
        }

        var items = node.Items;
        var gap = node.FindGap(key, out var found);
        Cid? prev;
        if (height < node.Layer)
        {
            var child = node.ChildBefore(gap);
            if (child < 0)
            {
                return null;
            }

            prev = RemoveAt(items[child].Child!, key, height, out var newChild);
            if (prev is null)
            {
                return null;
            }

            if (newChild is null)
            {
                items.RemoveAt(child);
            }
            else
            {
                items[child] = MstItem.Pointer(newChild);
            }
        }
        else
        {
            if (found < 0)
            {
                return null;
            }

            prev = items[found].Value;
            items.RemoveAt(found);
            // The subtrees on both sides of the removed entry now share a gap: merge them into one.
            if (found > 0 && found < items.Count && items[found - 1].IsChild && items[found].IsChild)
            {
                var merged = Merge(items[found - 1].Child!, items[found].Child!);
                items.RemoveAt(found);
                items[found - 1] = MstItem.Pointer(merged);
            }
        }

        node.MarkChanged();
        remaining = items.Count > 0 ? node : null;
        return prev;
    }

    /// <summary>Joins two adjacent subtrees of one layer (every key of <paramref name="left"/> below every key of <paramref name="right"/>).</summary>
    private static MstNode Merge(MstNode left, MstNode right)
    {
        var items = new List<MstItem>(left.Items.Count + right.Items.Count);
        items.AddRange(left.Items);
        items.AddRange(right.Items);
        var seam = left.Items.Count;
        if (seam > 0 && seam < items.Count && items[seam - 1].IsChild && items[seam].IsChild)
        {
            items[seam - 1] = MstItem.Pointer(Merge(items[seam - 1].Child!, items[seam].Child!));
            items.RemoveAt(seam);
        }

        return MstNode.WithItems(left.Layer, items);
    }
}
