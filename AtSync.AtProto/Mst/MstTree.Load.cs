using AtSync.AtProto.Cids;

namespace AtSync.AtProto.Mst;

public sealed partial class MstTree
{
    /// <summary>
    /// Opens the tree rooted at <paramref name="root"/> over <paramref name="blocks"/>. Nodes are decoded and checked
    /// when first used (canonical encoding, keys in order and within their parent's gap, every key on its node's
    /// layer, children exactly one layer down, no empty subtrees) — so checking a commit decodes only the nodes its
    /// ops touch. A bad node throws <see cref="MstFormatException"/> (the root here, others when reached); a node not in
    /// the blocks throws <see cref="MstPartialTreeException"/> when reached. <paramref name="verifyBlocks"/> hashes each
    /// block against its CID (pass false only when the source already did, as a CID-checked <see cref="Car.CarFile"/>).
    /// <paramref name="everyKeyLayer"/> false checks only each node's first key's layer (the one that places the node),
    /// skipping a SHA-256 per other key: a signer's misplaced key then is simply not found by lookups (no one else's
    /// data is at stake), which is how commit checks afford the firehose rate.
    /// </summary>
    public static MstTree Load(Cid root, MstBlockLookup blocks, bool verifyBlocks = true, int maxNodes = 1_000_000, bool everyKeyLayer = true)
    {
        ArgumentNullException.ThrowIfNull(blocks);
        var loader = new Loader(blocks, verifyBlocks, maxNodes, everyKeyLayer);
        var node = MstNode.Lazy(-1, root, loader, null, null);
        if (blocks(root, out _))
        {
            _ = node.Items;
        }
        else
        {
            node.Layer = 0;
        }

        return new MstTree(node);
    }

    /// <summary>Opens a tree over a CAR (its blocks were CID-checked when read, unless it was read without verification).</summary>
    public static MstTree Load(Cid root, Car.CarFile car, int maxNodes = 1_000_000, bool everyKeyLayer = true)
    {
        ArgumentNullException.ThrowIfNull(car);
        return Load(root, car.TryGetBlock, !car.BlocksVerified, maxNodes, everyKeyLayer);
    }

    /// <summary>
    /// True when every node of the tree is present (decoding and checking each one; <see cref="MstFormatException"/> for a bad one).
    /// </summary>
    public bool IsComplete
    {
        get
        {
            try
            {
                return IsCompleteNode(_root);
            }
            catch (MstPartialTreeException)
            {
                return false;
            }
        }
    }

    private static bool IsCompleteNode(MstNode node)
    {
        foreach (var item in node.Items)
        {
            if (item.Child is { } child && !IsCompleteNode(child))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Decodes and checks nodes on demand for one tree.</summary>
    internal sealed class Loader(MstBlockLookup blocks, bool verify, int maxNodes, bool everyKeyLayer)
    {
        private int _loaded;

        /// <summary>The items of <paramref name="node"/> (layer -1 at the root: not yet known), keys strictly between the bounds.</summary>
        public List<MstItem> Expand(MstNode node, byte[]? low, byte[]? high)
        {
            var cid = node.Cid!.Value;
            if (!cid.IsDagCbor)
            {
                throw new MstFormatException($"MST node link {cid} is not dag-cbor");
            }

            if (!blocks(cid, out var bytes))
            {
                throw new MstPartialTreeException(cid);
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
            var layer = LayerOf(data, node.Layer, cid);
            var subtrees = Subtrees(data);
            if (layer == 0 && subtrees > 0)
            {
                throw new MstFormatException($"MST node {cid} is on layer 0 but has subtrees");
            }

            var items = new List<MstItem>(data.Entries.Count + subtrees);
            if (data.Left is { } left)
            {
                items.Add(MstItem.Pointer(MstNode.Lazy(layer - 1, left, this, low, data.Entries.Count > 0 ? data.Entries[0].Key : high)));
            }

            var previous = low;
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
                    items.Add(MstItem.Pointer(MstNode.Lazy(layer - 1, right, this, entry.Key, next)));
                }

                previous = entry.Key;
            }

            if (items.Count == 0 && node.Layer >= 0)
            {
                throw new MstFormatException($"MST node {cid} is an empty subtree");
            }

            node.Layer = layer;
            node.SetLoaded(bytes);
            return items;
        }

        /// <summary>How many child pointers the node holds (its left one and each entry's right one).</summary>
        private static int Subtrees(MstNodeData data)
        {
            var n = data.Left is null ? 0 : 1;
            var entries = data.Entries;
            for (var i = 0; i < entries.Count; i++)
            {
                n += entries[i].Right is null ? 0 : 1;
            }

            return n;
        }

        private int LayerOf(MstNodeData data, int required, Cid cid)
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
            for (var i = 1; everyKeyLayer && i < data.Entries.Count; i++)
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
}
