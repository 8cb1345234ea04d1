using System.Text;
using AtSync.AtProto.Cids;

namespace AtSync.AtProto.Mst;

/// <summary>
/// A Merkle Search Tree (the AT Protocol repository's key → record CID map), possibly partial: nodes missing from
/// the blocks it was loaded from are stubs, known by CID only. Lookups, inserts and removes that need a stub throw
/// <see cref="MstPartialTreeException"/>; everything else works, so a commit's few blocks are enough to invert its ops.
/// Not thread-safe: one tree per task.
/// </summary>
public sealed partial class MstTree
{
    private MstNode _root;

    private MstTree(MstNode root) => _root = root;

    /// <summary>A new empty tree.</summary>
    public static MstTree Create() => new(MstNode.Empty(0));

    /// <summary>A tree holding <paramref name="entries"/> (keys as repository paths).</summary>
    public static MstTree Create(IEnumerable<KeyValuePair<string, Cid>> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var tree = Create();
        foreach (var (key, value) in entries)
        {
            tree.Insert(key, value);
        }

        return tree;
    }

    /// <summary>The layer of the root node (0 for a tree whose keys are all at the bottom layer, and for the empty tree).</summary>
    public int RootLayer => _root.Layer;

    /// <summary>The value for <paramref name="key"/>, or null when absent.</summary>
    public Cid? Get(string key) => Get(Utf8(key));

    public Cid? Get(ReadOnlySpan<byte> key)
    {
        var height = MstKey.Height(key);
        var node = _root;
        _ = node.Items; // a root not in the blocks has no known layer: nothing can be said without it
        while (true)
        {
            if (height > node.Layer)
            {
                return null;
            }

            var gap = node.FindGap(key, out var found);
            if (height == node.Layer)
            {
                return found >= 0 ? node.Items[found].Value : null;
            }

            var child = node.ChildBefore(gap);
            if (child < 0)
            {
                return null;
            }

            node = node.Items[child].Child!;
        }
    }

    /// <summary>Sets <paramref name="key"/> to <paramref name="value"/>; returns the previous value, or null when the key was new.</summary>
    public Cid? Insert(string key, Cid value) => Insert(Utf8(key), value);

    public Cid? Insert(byte[] key, Cid value)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (!MstKey.IsValid(key))
        {
            throw new ArgumentException($"'{Encoding.UTF8.GetString(key)}' is not a valid repository path.", nameof(key));
        }

        if (value.IsEmpty)
        {
            throw new ArgumentException("An MST value must be a CID.", nameof(value));
        }

        var height = MstKey.Height(key);
        _ = _root.Items;
        while (height > _root.Layer)
        {
            // The new key belongs above the root: an empty root simply moves up; otherwise push a layer over it.
            if (_root.Items.Count == 0)
            {
                _root.Layer = height;
            }
            else
            {
                _root = MstNode.WithItems(_root.Layer + 1, [MstItem.Pointer(_root)]);
            }
        }

        return InsertAt(_root, key, value, height);
    }

    /// <summary>Removes <paramref name="key"/>; returns its value, or null when it was not in the tree.</summary>
    public Cid? Remove(string key) => Remove(Utf8(key));

    public Cid? Remove(byte[] key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var height = MstKey.Height(key);
        _ = _root.Items;
        var prev = RemoveAt(_root, key, height, out var remaining);
        if (prev is null)
        {
            return null;
        }

        _root = remaining ?? MstNode.Empty(0);
        TrimTop();
        return prev;
    }

    /// <summary>The root CID (computing the CIDs of changed nodes).</summary>
    public Cid RootCid() => MstEncoder.CidOf(_root);

    private static byte[] Utf8(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Encoding.UTF8.GetBytes(key);
    }

    /// <summary>
    /// A root holding nothing but one pointer is replaced by its child, layer by layer (the canonical shape). Each new
    /// root is read (a loaded tree's child is decoded only now) to know whether it is itself only a pointer; one not in
    /// the blocks throws <see cref="MstPartialTreeException"/>, as the canonical root cannot be known without it.
    /// </summary>
    private void TrimTop()
    {
        while (_root.Items.Count == 1 && _root.Items[0].IsChild)
        {
            _root = _root.Items[0].Child!;
        }

        if (_root.Items.Count == 0)
        {
            _root.Layer = 0;
        }
    }
}
