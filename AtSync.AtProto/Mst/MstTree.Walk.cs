using AtSync.AtProto.Cids;

namespace AtSync.AtProto.Mst;

/// <summary>One key of the tree and its value (a record CID).</summary>
public readonly record struct MstLeaf(byte[] Key, Cid Value)
{
    public string Path => System.Text.Encoding.UTF8.GetString(Key);
}

public sealed partial class MstTree
{
    /// <summary>Every key and value in key order; throws <see cref="MstPartialTreeException"/> on reaching a stub.</summary>
    public IEnumerable<MstLeaf> Walk() => WalkNode(_root);

    /// <summary>Every node's CID and encoded bytes (computing changed ones), root first; nodes not in the blocks are skipped.</summary>
    public IEnumerable<Car.CarBlock> Blocks()
    {
        RootCid();
        var stack = new Stack<MstNode>();
        stack.Push(_root);
        while (stack.Count > 0)
        {
            var node = stack.Pop();
            if (!TryItems(node, out var items))
            {
                continue;
            }

            yield return new Car.CarBlock(node.Cid!.Value, node.Bytes);
            for (var i = items.Count - 1; i >= 0; i--)
            {
                if (items[i].Child is { } child)
                {
                    stack.Push(child);
                }
            }
        }
    }

    /// <summary>
    /// The nodes on the path from the root to where <paramref name="key"/> is or would be: what a
    /// <c>getRecord</c> proof carries to show the key's value (or its absence). Throws on reaching a stub.
    /// </summary>
    public IReadOnlyList<Car.CarBlock> ProofBlocks(string key)
    {
        RootCid();
        var bytes = Utf8(key);
        var height = MstKey.Height(bytes);
        var path = new List<Car.CarBlock>();
        var node = _root;
        while (true)
        {
            var items = node.Items;
            path.Add(new Car.CarBlock(node.Cid!.Value, node.Bytes));
            if (height >= node.Layer)
            {
                return path;
            }

            var child = node.ChildBefore(node.FindGap(bytes, out _));
            if (child < 0)
            {
                return path;
            }

            node = items[child].Child!;
        }
    }

    private static bool TryItems(MstNode node, out List<MstItem> items)
    {
        try
        {
            items = node.Items;
            return true;
        }
        catch (MstPartialTreeException)
        {
            items = [];
            return false;
        }
    }

    private static IEnumerable<MstLeaf> WalkNode(MstNode root)
    {
        var stack = new Stack<(MstNode Node, int Index)>();
        stack.Push((root, 0));
        while (stack.Count > 0)
        {
            var (node, index) = stack.Pop();
            var items = node.Items;
            if (index >= items.Count)
            {
                continue;
            }

            stack.Push((node, index + 1));
            var item = items[index];
            if (item.Child is { } child)
            {
                stack.Push((child, 0));
            }
            else
            {
                yield return new MstLeaf(item.Key!, item.Value);
            }
        }
    }
}
