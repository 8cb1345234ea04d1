using AtSync.AtProto.Cids;
using AtSync.AtProto.Mst;

namespace AtSync.Tests.AtProto.Mst;

/// <summary>
/// Property checks: incremental inserts and removes give the canonical tree (built here from scratch, independently
/// of <see cref="MstTree.Insert(string, Cid)"/>), and undoing one op on the tree made of the new tree's blocks gives the previous root.
/// </summary>
public sealed class MstIncrementalPropertyTests
{
    private static readonly Cid Leaf = Cid.Parse("bafyreie5cvv4h45feadgeuwhbcutmh6t2ceseocckahdoe6uat64zmz454");

    /// <summary>The canonical root of a key set, from the definition (layer of each key, one node per gap).</summary>
    private static Cid Reference(IEnumerable<string> keys)
    {
        var sorted = keys.Select(k => System.Text.Encoding.UTF8.GetBytes(k)).OrderBy(k => k, Comparer<byte[]>.Create((a, b) => MstKey.Compare(a, b))).ToList();
        if (sorted.Count == 0)
        {
            return Cid.ForDagCbor(MstNodeCodec.Encode(new MstNodeData(null, [])));
        }

        var heights = sorted.Select(k => MstKey.Height(k)).ToList();
        return Build(sorted, heights, 0, sorted.Count, heights.Max());
    }

    private static Cid Build(List<byte[]> keys, List<int> heights, int from, int to, int layer)
    {
        Cid? Sub(int a, int b) => a < b ? Build(keys, heights, a, b, layer - 1) : null;
        var entries = new List<MstEntryData>();
        Cid? left = null;
        var start = from;
        var first = true;
        for (var i = from; i <= to; i++)
        {
            if (i < to && heights[i] != layer)
            {
                continue;
            }

            var sub = Sub(start, i);
            if (first)
            {
                left = sub;
                first = false;
            }
            else
            {
                entries[^1] = entries[^1] with { Right = sub };
            }

            if (i < to)
            {
                entries.Add(new MstEntryData(keys[i], Leaf, null));
            }

            start = i + 1;
        }

        return Cid.ForDagCbor(MstNodeCodec.Encode(new MstNodeData(left, entries)));
    }

    private static string[] RandomKeys(Random random, int count) =>
        Enumerable.Range(0, count).Select(_ => $"c{random.Next(3)}/{random.Next(100_000):x}").Distinct().ToArray();

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Inserts_and_removes_give_the_canonical_tree(int seed)
    {
        var random = new Random(seed);
        for (var round = 0; round < 200; round++)
        {
            var keys = RandomKeys(random, random.Next(1, 60));
            var tree = MstTree.Create();
            var present = new HashSet<string>();
            foreach (var key in keys.OrderBy(_ => random.Next()))
            {
                tree.Insert(key, Leaf);
                present.Add(key);
                Assert.Equal(Reference(present), tree.RootCid());
            }

            foreach (var key in keys.OrderBy(_ => random.Next()))
            {
                Assert.Equal(Leaf, tree.Remove(key));
                present.Remove(key);
                Assert.Equal(Reference(present), tree.RootCid());
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Undoing_a_single_op_on_the_new_trees_blocks_gives_the_previous_root(int seed)
    {
        var random = new Random(seed);
        for (var round = 0; round < 300; round++)
        {
            var keys = RandomKeys(random, random.Next(2, 60));
            var tree = MstTree.Create(keys.Skip(1).Select(k => KeyValuePair.Create(k, Leaf)));
            var before = tree.RootCid();
            var created = keys[0];
            tree.Insert(created, Leaf);
            AssertInverts(tree, new MstOperation(created, Leaf, null), before);

            var removed = keys[1 + random.Next(keys.Length - 1)];
            before = tree.RootCid();
            tree.Remove(removed);
            AssertInverts(tree, new MstOperation(removed, null, Leaf), before);
        }
    }

    /// <summary>
    /// The smallest failing shape: the created key is the root's only entry, after its one subtree (a pointer-only
    /// node over a leaf). Undoing it leaves the root one pointer; the trim must read the not-yet-decoded child to go
    /// down two layers, and, when that child's block is missing, refuse as incomplete rather than give a wrong root.
    /// </summary>
    [Fact]
    public void Undoing_a_create_at_the_top_trims_through_children_loaded_on_demand()
    {
        var high = Enumerable.Range(0, 10_000).Select(i => $"z/{i}").First(k => MstKey.Height(System.Text.Encoding.UTF8.GetBytes(k)) == 2);
        var low = Enumerable.Range(0, 10_000).Select(i => $"a/{i}").Where(k => MstKey.Height(System.Text.Encoding.UTF8.GetBytes(k)) == 0).Take(2).ToArray();
        var tree = MstTree.Create(low.Select(k => KeyValuePair.Create(k, Leaf)));
        var before = tree.RootCid();
        Assert.Equal(0, tree.RootLayer);
        tree.Insert(high, Leaf);
        Assert.Equal(2, tree.RootLayer);
        Assert.Equal(Reference([.. low, high]), tree.RootCid());
        AssertInverts(tree, new MstOperation(high, Leaf, null), before);

        // Without the layer-1 node's block the canonical previous root cannot be known: incomplete, not a mismatch.
        var blocks = tree.Blocks().ToList();
        Assert.Equal(3, blocks.Count);
        var partial = blocks.Where((_, i) => i != 1).ToDictionary(b => b.Cid, b => b.Data);
        var loaded = MstTree.Load(tree.RootCid(), (Cid cid, out ReadOnlyMemory<byte> block) => partial.TryGetValue(cid, out block), everyKeyLayer: false);
        Assert.Equal(MstInversion.IncompleteTree, loaded.Invert(new MstOperation(high, Leaf, null)));
    }

    private static void AssertInverts(MstTree after, MstOperation op, Cid before)
    {
        var blocks = after.Blocks().ToDictionary(b => b.Cid, b => b.Data);
        var loaded = MstTree.Load(after.RootCid(), (Cid cid, out ReadOnlyMemory<byte> block) => blocks.TryGetValue(cid, out block), everyKeyLayer: false);
        Assert.Equal(MstInversion.Inverted, loaded.Invert(op));
        Assert.Equal(before, loaded.RootCid());
    }
}
