using AtSync.AtProto.Cids;

namespace AtSync.AtProto.Mst;

public sealed partial class MstTree
{
    /// <summary>
    /// Loads the tree rooted at <paramref name="root"/> from <paramref name="blocks"/>: every node found is decoded
    /// and checked (canonical encoding, keys in order and within their parent's gap, every key on its node's layer,
    /// child nodes exactly one layer down, no empty subtrees); nodes not found become stubs. Throws
    /// <see cref="MstFormatException"/> for a bad node. <paramref name="verifyBlocks"/> hashes each block against its CID
    /// (pass false only when the source already did, as a CID-checked <see cref="Car.CarFile"/>).
    /// </summary>
    public static MstTree Load(Cid root, MstBlockLookup blocks, bool verifyBlocks = true, int maxNodes = 1_000_000)
    {
        ArgumentNullException.ThrowIfNull(blocks);
        var loader = new Loader(blocks, verifyBlocks, maxNodes);
        return new MstTree(loader.Load(root, -1, null, null));
    }

    /// <summary>Loads from a CAR (its blocks were CID-checked when read, unless it was read without verification).</summary>
    public static MstTree Load(Cid root, Car.CarFile car, int maxNodes = 1_000_000)
    {
        ArgumentNullException.ThrowIfNull(car);
        return Load(root, car.TryGetBlock, !car.BlocksVerified, maxNodes);
    }

    /// <summary>True when no node of the tree is a stub (every block was present).</summary>
    public bool IsComplete => IsCompleteNode(_root);

    private static bool IsCompleteNode(MstNode node)
    {
        if (node.IsStub)
        {
            return false;
        }

        foreach (var item in node.Items)
        {
            if (item.Child is { } child && !IsCompleteNode(child))
            {
                return false;
            }
        }

        return true;
    }

    private sealed class Loader(MstBlockLookup blocks, bool verify, int maxNodes)
    {
        private int _loaded;

        /// <param name="layer">The layer the parent requires (-1 at the root).</param>
        /// <param name="low">Every key must sort after this (exclusive), or null.</param>
        /// <param name="high">Every key must sort before this (exclusive), or null.</param>
        public MstNode Load(Cid cid, int layer, byte[]? low, byte[]? high)
        {
            if (!cid.IsDagCbor)
            {
                throw new MstFormatException($"MST node link {cid} is not dag-cbor");
            }

            if (!blocks(cid, out var bytes))
            {
                if (layer < 0)
                {
                    return MstNode.Stub(StubRootLayer, cid);
                }

                return MstNode.Stub(layer, cid);
            }

            if (++_loaded > maxNodes)
            {
                throw new MstFormatException($"the MST has more than {maxNodes} nodes");
            }

            if (verify && !cid.Matches(bytes.Span))
            {
                throw new MstFormatException($"MST node block does not hash to its CID {cid}");
            }

            var data = MstNodeCodec.Decode(bytes);
            var nodeLayer = LayerOf(data, layer, cid);
            if (nodeLayer == 0 && (data.Left is not null || data.Entries.Any(e => e.Right is not null)))
            {
                throw new MstFormatException($"MST node {cid} is on layer 0 but has subtrees");
            }

            var items = new List<MstItem>((data.Entries.Count * 2) + 1);
            var previous = low;
            if (data.Left is { } left)
            {
                items.Add(MstItem.Pointer(Load(left, nodeLayer - 1, low, data.Entries.Count > 0 ? data.Entries[0].Key : high)));
            }

            for (var i = 0; i < data.Entries.Count; i++)
            {
                var entry = data.Entries[i];
                if ((previous is not null && MstKey.Compare(entry.Key, previous) <= 0) || (high is not null && MstKey.Compare(entry.Key, high) >= 0))
                {
                    throw new MstFormatException($"MST node {cid} has a key outside the range its parent gives it");
                }

                items.Add(MstItem.Entry(entry.Key, entry.Value));
                if (entry.Right is { } right)
                {
                    var next = i + 1 < data.Entries.Count ? data.Entries[i + 1].Key : high;
                    items.Add(MstItem.Pointer(Load(right, nodeLayer - 1, entry.Key, next)));
                }

                previous = entry.Key;
            }

            if (items.Count == 0 && layer >= 0)
            {
                throw new MstFormatException($"MST node {cid} is an empty subtree");
            }

            return MstNode.Loaded(nodeLayer, items, cid, bytes);
        }

        private static int LayerOf(MstNodeData data, int required, Cid cid)
        {
            if (data.Entries.Count == 0)
            {
                // Only the empty tree's root, or a pointer-only node between layers, has no entries.
                if (required < 0)
                {
                    return data.Left is null ? 0 : throw new MstFormatException("the MST root holds only a pointer (a canonical tree trims it)");
                }

                if (required == 0 || data.Left is null)
                {
                    throw new MstFormatException($"MST node {cid} has no entries where a subtree is required");
                }

                return required;
            }

            var height = MstKey.Height(data.Entries[0].Key);
            for (var i = 1; i < data.Entries.Count; i++)
            {
                if (MstKey.Height(data.Entries[i].Key) != height)
                {
                    throw new MstFormatException($"MST node {cid} mixes keys of different layers");
                }
            }

            if (required >= 0 && height != required)
            {
                throw new MstFormatException($"MST node {cid} is on layer {height} where its parent requires {required}");
            }

            return height;
        }
    }

    /// <summary>A stub root's layer is unknown; inserts and removes need the root's items anyway, so it is never used.</summary>
    private const int StubRootLayer = 0;
}
