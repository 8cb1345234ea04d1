using AtSync.AtProto.Cids;

namespace AtSync.AtProto.Mst;

public sealed partial class MstTree
{
    /// <summary>Inserts into the subtree at <paramref name="node"/> (whose layer is at least <paramref name="height"/>).</summary>
    private static Cid? InsertAt(MstNode node, byte[] key, Cid value, int height)
    {
        var items = node.Items;
        var gap = node.FindGap(key, out var found);
        var child = node.ChildBefore(gap);
        if (height < node.Layer)
        {
            if (child < 0)
            {
                // No subtree covers this gap yet: a new node one layer down (itself possibly a chain down to the key's layer).
                var fresh = MstNode.Empty(node.Layer - 1);
                InsertAt(fresh, key, value, height);
                items.Insert(gap, MstItem.Pointer(fresh));
                node.MarkChanged();
                return null;
            }

            var prev = InsertAt(items[child].Child!, key, value, height);
            if (prev != value)
            {
                node.MarkChanged();
            }

            return prev;
        }

        if (found >= 0)
        {
            var old = items[found].Value;
            if (old != value)
            {
                items[found] = MstItem.Entry(items[found].Key!, value);
                node.MarkChanged();
            }

            return old;
        }

        if (child < 0)
        {
            items.Insert(gap, MstItem.Entry(key, value));
        }
        else
        {
            // The key lands inside the subtree of this gap: split it around the key.
            var (left, right) = Split(items[child].Child!, key);
            items.RemoveAt(child);
            var at = child;
            if (left is not null)
            {
                items.Insert(at++, MstItem.Pointer(left));
            }

            items.Insert(at++, MstItem.Entry(key, value));
            if (right is not null)
            {
                items.Insert(at, MstItem.Pointer(right));
            }
        }

        node.MarkChanged();
        return null;
    }

    /// <summary>Splits a subtree into the parts below and above <paramref name="key"/> (not in it); null for an empty part.</summary>
    private static (MstNode? Left, MstNode? Right) Split(MstNode node, byte[] key)
    {
        var items = node.Items;
        var gap = node.FindGap(key, out _);
        var child = node.ChildBefore(gap);
        var leftItems = items.GetRange(0, child >= 0 ? child : gap);
        var rightItems = items.GetRange(gap, items.Count - gap);
        if (child >= 0)
        {
            var (lowerLeft, lowerRight) = Split(items[child].Child!, key);
            if (lowerLeft is not null)
            {
                leftItems.Add(MstItem.Pointer(lowerLeft));
            }

            if (lowerRight is not null)
            {
                rightItems.Insert(0, MstItem.Pointer(lowerRight));
            }
        }

        return (
            leftItems.Count > 0 ? MstNode.WithItems(node.Layer, leftItems) : null,
            rightItems.Count > 0 ? MstNode.WithItems(node.Layer, rightItems) : null);
    }
}
