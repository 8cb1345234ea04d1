using AtSync.AtProto.Cids;

namespace AtSync.AtProto.Mst;

/// <summary>
/// One in-memory MST node: its layer and its items in key order — entries (key → value) with at most one child
/// pointer between two entries (and before the first / after the last). A stub is a node known only by its CID
/// (not in the blocks the tree was loaded from); touching its items throws <see cref="MstPartialTreeException"/>.
/// </summary>
internal sealed class MstNode
{
    private List<MstItem>? _items;
    private MstTree.Loader? _loader;
    private byte[]? _low;
    private byte[]? _high;

    private MstNode(int layer, List<MstItem>? items, Cid? cid, ReadOnlyMemory<byte> bytes)
    {
        Layer = layer;
        _items = items;
        Cid = cid;
        Bytes = bytes;
    }

    /// <summary>The layer (0 at the leaves); every key in <see cref="Items"/> has this height.</summary>
    public int Layer { get; set; }

    /// <summary>The node's CID when known (loaded, stub, or computed since the last change); null when changed.</summary>
    public Cid? Cid { get; private set; }

    /// <summary>The encoded node matching <see cref="Cid"/>, when known.</summary>
    public ReadOnlyMemory<byte> Bytes { get; private set; }

    /// <summary>True when the node's items are not in memory (not loaded yet, or not in the blocks at all).</summary>
    public bool IsStub => _items is null;

    /// <summary>
    /// The items, decoded from the tree's blocks on first use; throws <see cref="MstPartialTreeException"/> when the
    /// block is not there, <see cref="MstFormatException"/> when it is not a canonical node for its place.
    /// </summary>
    public List<MstItem> Items => _items ??= _loader?.Expand(this, _low, _high) ?? throw new MstPartialTreeException(Cid!.Value);

    public static MstNode Empty(int layer) => new(layer, [], null, default);

    public static MstNode Stub(int layer, Cid cid) => new(layer, null, cid, default);

    /// <summary>A node loaded on first use: its keys must lie strictly between <paramref name="low"/> and <paramref name="high"/>.</summary>
    public static MstNode Lazy(int layer, Cid cid, MstTree.Loader loader, byte[]? low, byte[]? high) =>
        new(layer, null, cid, default) { _loader = loader, _low = low, _high = high };

    /// <summary>Called by the loader with the decoded node.</summary>
    public void SetLoaded(ReadOnlyMemory<byte> bytes) => Bytes = bytes;

    public static MstNode WithItems(int layer, List<MstItem> items) => new(layer, items, null, default);

    /// <summary>Forgets the cached CID after a change.</summary>
    public void MarkChanged()
    {
        Cid = null;
        Bytes = default;
    }

    public void SetEncoded(Cid cid, ReadOnlyMemory<byte> bytes)
    {
        Cid = cid;
        Bytes = bytes;
    }

    /// <summary>
    /// The index of the first entry whose key sorts after <paramref name="key"/> (or <c>Items.Count</c>); the
    /// <paramref name="found"/> index is the entry equal to the key, or -1. The child covering the gap, if any, sits just before the returned index.
    /// </summary>
    public int FindGap(ReadOnlySpan<byte> key, out int found)
    {
        var items = Items;
        found = -1;
        for (var i = 0; i < items.Count; i++)
        {
            if (items[i].Key is not { } k)
            {
                continue;
            }

            var c = MstKey.Compare(k, key);
            if (c == 0)
            {
                found = i;
                return i + 1;
            }

            if (c > 0)
            {
                return i;
            }
        }

        return items.Count;
    }

    /// <summary>The child pointer just before <paramref name="gap"/>, or -1 when the gap holds none.</summary>
    public int ChildBefore(int gap) => gap > 0 && Items[gap - 1].IsChild ? gap - 1 : -1;
}

/// <summary>An item of an <see cref="MstNode"/>: an entry (<see cref="Key"/> set) or a child pointer (<see cref="Child"/> set).</summary>
internal readonly record struct MstItem(byte[]? Key, Cid Value, MstNode? Child)
{
    public bool IsChild => Child is not null;

    public static MstItem Entry(byte[] key, Cid value) => new(key, value, null);

    public static MstItem Pointer(MstNode child) => new(null, default, child);
}
