using AtSync.AtProto.Cids;
using AtSync.AtProto.Mst;

namespace AtSync.Tests.AtProto.Mst;

/// <summary>Tree behaviour over the 156 keys of testdata/interop/mst/example_keys.txt, and strict node decoding.</summary>
public sealed class MstTreeTests
{
    private static readonly Cid Leaf = Cid.Parse("bafyreie5cvv4h45feadgeuwhbcutmh6t2ceseocckahdoe6uat64zmz454");

    private static string[] ExampleKeys() => File.ReadAllLines(InteropCorpus.Path("mst", "example_keys.txt")).Where(l => l.Length > 0).ToArray();

    private static Cid Value(int i) => Cid.ForDagCbor([0xa1, 0x61, 0x69, (byte)(i & 0x17)]);

    [Fact]
    public void The_root_depends_only_on_the_contents_not_the_order_of_changes()
    {
        var keys = ExampleKeys();
        Assert.Equal(156, keys.Length);
        var sorted = MstTree.Create(keys.Order(StringComparer.Ordinal).Select((k, i) => KeyValuePair.Create(k, Leaf)));
        var random = new Random(14);
        for (var round = 0; round < 5; round++)
        {
            var shuffled = keys.OrderBy(_ => random.Next()).ToArray();
            var tree = MstTree.Create(shuffled.Select(k => KeyValuePair.Create(k, Leaf)));
            Assert.Equal(sorted.RootCid(), tree.RootCid());
            Assert.Equal(keys.Order(StringComparer.Ordinal), tree.Walk().Select(l => l.Path));

            // Remove half in random order: each step equals a tree built fresh from what is left.
            var left = new SortedSet<string>(keys, StringComparer.Ordinal);
            foreach (var key in shuffled.Take(78))
            {
                Assert.Equal(Leaf, tree.Remove(key));
                Assert.Null(tree.Remove(key));
                left.Remove(key);
            }

            Assert.Equal(MstTree.Create(left.Select(k => KeyValuePair.Create(k, Leaf))).RootCid(), tree.RootCid());
            Assert.All(shuffled.Take(78), k => Assert.Null(tree.Get(k)));
            Assert.All(left, k => Assert.Equal(Leaf, tree.Get(k)));
        }
    }

    [Fact]
    public void A_tree_loads_back_from_its_blocks_and_keeps_working()
    {
        var keys = ExampleKeys();
        var tree = MstTree.Create(keys.Select((k, i) => KeyValuePair.Create(k, Value(i))));
        var blocks = tree.Blocks().ToDictionary(b => b.Cid, b => b.Data);
        var loaded = MstTree.Load(tree.RootCid(), (Cid cid, out ReadOnlyMemory<byte> block) => blocks.TryGetValue(cid, out block));
        Assert.True(loaded.IsComplete);
        Assert.Equal(tree.RootCid(), loaded.RootCid());
        Assert.Equal(tree.Walk().Select(l => (l.Path, l.Value)), loaded.Walk().Select(l => (l.Path, l.Value)));

        Assert.Equal(Value(0), loaded.Insert(keys[0], Value(1)));
        tree.Insert(keys[0], Value(1));
        Assert.Equal(tree.RootCid(), loaded.RootCid());
        Assert.Null(loaded.Insert("zz/new", Leaf));
        Assert.NotEqual(tree.RootCid(), loaded.RootCid());
    }

    [Fact]
    public void A_partial_tree_throws_on_reaching_a_missing_node()
    {
        var tree = MstTree.Create(ExampleKeys().Select(k => KeyValuePair.Create(k, Leaf)));
        var root = tree.Blocks().First();
        var partial = MstTree.Load(root.Cid, (Cid cid, out ReadOnlyMemory<byte> block) =>
        {
            block = root.Data;
            return cid == root.Cid;
        });
        Assert.False(partial.IsComplete);
        Assert.Equal(tree.RootCid(), partial.RootCid());
        Assert.Throws<MstPartialTreeException>(() => partial.Walk().ToList());
        Assert.Equal(MstInversion.IncompleteTree, partial.Invert(new MstOperation(ExampleKeys()[3], Leaf, null)));
    }

    [Fact]
    public void Non_canonical_nodes_are_refused()
    {
        var a = "a/1"u8.ToArray();
        var b = "a/2"u8.ToArray();
        var good = MstNodeCodec.Encode(new MstNodeData(null, [new MstEntryData(a, Leaf, null), new MstEntryData(b, Leaf, null)]));
        var decoded = MstNodeCodec.Decode(good);
        Assert.Equal(good, MstNodeCodec.Encode(decoded));

        // p = 1 where "a/1" and "a/2" share 2 bytes: the key is right but the compression is not canonical.
        Assert.Equal(2, MstNodeCodec.Decode(HandEncoded(2, "2"u8)).Entries.Count);
        Assert.Throws<MstFormatException>(() => MstNodeCodec.Decode(HandEncoded(1, "/2"u8)));
        Assert.Throws<MstFormatException>(() => MstNodeCodec.Decode(HandEncoded(4, "2"u8)));

        Assert.Throws<MstFormatException>(() => MstNodeCodec.Decode(MstNodeCodec.Encode(new MstNodeData(null, [new MstEntryData(b, Leaf, null), new MstEntryData(a, Leaf, null)]))));
        Assert.Throws<MstFormatException>(() => MstNodeCodec.Decode(MstNodeCodec.Encode(new MstNodeData(null, [new MstEntryData("no-slash"u8.ToArray(), Leaf, null)]))));
        Assert.Throws<MstFormatException>(() => MstNodeCodec.Decode(new byte[] { 0xa1, 0x61, 0x65, 0x80 }));

        // A node whose keys sit on another layer than its parent requires.
        var low = new[] { "A0/374913", "A1/076595" }.First(k => MstKey.Height(System.Text.Encoding.UTF8.GetBytes(k)) == 0);
        var child = MstNodeCodec.Encode(new MstNodeData(null, [new MstEntryData(System.Text.Encoding.UTF8.GetBytes(low), Leaf, null)]));
        var parent = MstNodeCodec.Encode(new MstNodeData(Cid.ForDagCbor(child), [new MstEntryData("B1/986427"u8.ToArray(), Leaf, null)]));
        var blocks = new Dictionary<Cid, ReadOnlyMemory<byte>> { [Cid.ForDagCbor(child)] = child, [Cid.ForDagCbor(parent)] = parent };
        var height = MstKey.Height("B1/986427"u8);
        var error = Record.Exception(() => MstTree.Load(Cid.ForDagCbor(parent), (Cid cid, out ReadOnlyMemory<byte> block) => blocks.TryGetValue(cid, out block)));
        if (height == 1)
        {
            Assert.Null(error);
        }
        else
        {
            Assert.IsType<MstFormatException>(error);
        }
    }

    /// <summary>The node {e: [{k: "a/1", p: 0}, {k: <paramref name="suffix"/>, p: <paramref name="prefix"/>}], l: null}, written field by field.</summary>
    private static byte[] HandEncoded(int prefix, ReadOnlySpan<byte> suffix)
    {
        var w = new AtSync.AtProto.DagCbor.DagCborWriter();
        w.WriteStartMap(2);
        w.WriteString("e");
        w.WriteStartArray(2);
        Entry(w, "a/1"u8, 0);
        Entry(w, suffix, prefix);
        w.WriteString("l");
        w.WriteNull();
        return w.ToArray();

        static void Entry(AtSync.AtProto.DagCbor.DagCborWriter w, ReadOnlySpan<byte> k, int p)
        {
            w.WriteStartMap(4);
            w.WriteString("k");
            w.WriteBytes(k);
            w.WriteString("p");
            w.WriteInt64(p);
            w.WriteString("t");
            w.WriteNull();
            w.WriteString("v");
            w.WriteCid(Leaf);
        }
    }
}
