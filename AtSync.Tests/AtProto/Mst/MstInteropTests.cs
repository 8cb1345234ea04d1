using System.Text;
using System.Text.Json;
using AtSync.AtProto.Cids;
using AtSync.AtProto.Mst;

namespace AtSync.Tests.AtProto.Mst;

/// <summary>The MST vectors of bluesky-social/atproto-interop-tests (testdata/interop/mst, testdata/interop/firehose).</summary>
public sealed class MstInteropTests
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    private sealed record KeyHeight(string Key, int Height);

    private sealed record CommonPrefix(string Left, string Right, int Len);

    private sealed record CommitProof(
        string Comment, string LeafValue, string[] Keys, string[] Adds, string[] Dels,
        string RootBeforeCommit, string RootAfterCommit, string[] BlocksInProof);

    private static T Read<T>(params string[] path) => JsonSerializer.Deserialize<T>(File.ReadAllText(InteropCorpus.Path(path)), Web)!;

    [Fact]
    public void Key_heights_match_the_vectors()
    {
        var cases = Read<KeyHeight[]>("mst", "key_heights.json");
        Assert.Equal(9, cases.Length);
        Assert.Contains(cases, c => c.Height >= 8);
        foreach (var c in cases)
        {
            Assert.True(c.Height == MstKey.Height(Encoding.UTF8.GetBytes(c.Key)), $"height of '{c.Key}'");
        }
    }

    [Fact]
    public void Common_prefix_lengths_match_the_vectors()
    {
        var cases = Read<CommonPrefix[]>("mst", "common_prefix.json");
        Assert.Equal(13, cases.Length);
        foreach (var c in cases)
        {
            Assert.True(c.Len == MstKey.CommonPrefixLength(Encoding.UTF8.GetBytes(c.Left), Encoding.UTF8.GetBytes(c.Right)), $"'{c.Left}' vs '{c.Right}'");
        }
    }

    [Fact]
    public void Commit_proof_fixtures_build_both_roots_and_invert_from_the_proof_blocks_alone()
    {
        var cases = Read<CommitProof[]>("firehose", "commit-proof-fixtures.json");
        Assert.True(cases.Length >= 6, $"only {cases.Length} fixtures");
        foreach (var c in cases)
        {
            var leaf = Cid.Parse(c.LeafValue);
            var tree = MstTree.Create(c.Keys.Select(k => KeyValuePair.Create(k, leaf)));
            Assert.True(c.RootBeforeCommit == tree.RootCid().ToString(), $"{c.Comment}: root before");

            foreach (var add in c.Adds)
            {
                Assert.Null(tree.Insert(add, leaf));
            }

            foreach (var del in c.Dels)
            {
                Assert.Equal(leaf, tree.Remove(del));
            }

            Assert.True(c.RootAfterCommit == tree.RootCid().ToString(), $"{c.Comment}: root after");

            // The proof: only the listed blocks of the new tree. Inverting the commit's ops on it must give the old root.
            var all = tree.Blocks().ToDictionary(b => b.Cid, b => b.Data);
            var proof = c.BlocksInProof.Select(Cid.Parse).ToDictionary(cid => cid, cid => all[cid]);
            var partial = MstTree.Load(Cid.Parse(c.RootAfterCommit), (Cid cid, out ReadOnlyMemory<byte> block) => proof.TryGetValue(cid, out block));
            Assert.False(partial.IsComplete && proof.Count < all.Count, $"{c.Comment}: a partial load claims completeness");
            foreach (var add in c.Adds)
            {
                Assert.Equal(MstInversion.Inverted, partial.Invert(new MstOperation(add, leaf, null)));
            }

            foreach (var del in c.Dels)
            {
                Assert.Equal(MstInversion.Inverted, partial.Invert(new MstOperation(del, null, leaf)));
            }

            Assert.True(c.RootBeforeCommit == partial.RootCid().ToString(), $"{c.Comment}: inverted root");
        }
    }

    /// <summary>Root CIDs the Go (indigo) and TypeScript implementations agree on (indigo's mst_interop_test.go).</summary>
    [Theory]
    [InlineData("bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm")]
    [InlineData("bafyreibj4lsc3aqnrvphp5xmrnfoorvru4wynt6lwidqbm2623a6tatzdu", "com.example.record/3jqfcqzm3fo2j")]
    [InlineData("bafyreih7wfei65pxzhauoibu3ls7jgmkju4bspy4t2ha2qdjnzqvoy33ai", "com.example.record/3jqfcqzm3fx2j")]
    [InlineData("bafyreicmahysq4n6wfuxo522m6dpiy7z7qzym3dzs756t5n7nfdgccwq7m",
        "com.example.record/3jqfcqzm3fp2j", "com.example.record/3jqfcqzm3fr2j", "com.example.record/3jqfcqzm3fs2j",
        "com.example.record/3jqfcqzm3ft2j", "com.example.record/3jqfcqzm4fc2j")]
    public void Known_maps_have_the_reference_root(string root, params string[] keys)
    {
        var tree = MstTree.Create(keys.Select(k => KeyValuePair.Create(k, Leaf)));
        Assert.Equal(root, tree.RootCid().ToString());
    }

    [Fact]
    public void Insertion_two_layers_down_and_its_removal_match_the_reference_roots()
    {
        string[] keys = ["3jqfcqzm3fo2j", "3jqfcqzm3fp2j", "3jqfcqzm3fr2j", "3jqfcqzm3fs2j", "3jqfcqzm3ft2j", "3jqfcqzm3fz2j",
            "3jqfcqzm4fc2j", "3jqfcqzm4fd2j", "3jqfcqzm4ff2j", "3jqfcqzm4fg2j", "3jqfcqzm4fh2j"];
        var tree = MstTree.Create(keys.Select(k => KeyValuePair.Create("com.example.record/" + k, Leaf)));
        Assert.Equal("bafyreiettyludka6fpgp33stwxfuwhkzlur6chs4d2v4nkmq2j3ogpdjem", tree.RootCid().ToString());
        Assert.Equal(1, tree.RootLayer);

        tree.Insert("com.example.record/3jqfcqzm3fx2j", Leaf);
        Assert.Equal("bafyreid2x5eqs4w4qxvc5jiwda4cien3gw2q6cshofxwnvv7iucrmfohpm", tree.RootCid().ToString());
        Assert.Equal(2, tree.RootLayer);

        Assert.Equal(Leaf, tree.Remove("com.example.record/3jqfcqzm3fx2j"));
        Assert.Equal("bafyreiettyludka6fpgp33stwxfuwhkzlur6chs4d2v4nkmq2j3ogpdjem", tree.RootCid().ToString());
        Assert.Equal(1, tree.RootLayer);
    }

    [Fact]
    public void New_layers_two_above_the_root_and_top_trimming_match_the_reference_roots()
    {
        var tree = MstTree.Create([KeyValuePair.Create("com.example.record/3jqfcqzm3ft2j", Leaf), KeyValuePair.Create("com.example.record/3jqfcqzm3fz2j", Leaf)]);
        const string l0 = "bafyreidfcktqnfmykz2ps3dbul35pepleq7kvv526g47xahuz3rqtptmky";
        const string l2 = "bafyreiavxaxdz7o7rbvr3zg2liox2yww46t7g6hkehx4i4h3lwudly7dhy";
        Assert.Equal(l0, tree.RootCid().ToString());
        tree.Insert("com.example.record/3jqfcqzm3fx2j", Leaf);
        Assert.Equal(l2, tree.RootCid().ToString());
        tree.Remove("com.example.record/3jqfcqzm3fx2j");
        Assert.Equal(l0, tree.RootCid().ToString());
        Assert.Equal(0, tree.RootLayer);

        tree.Insert("com.example.record/3jqfcqzm3fx2j", Leaf);
        tree.Insert("com.example.record/3jqfcqzm4fd2j", Leaf);
        Assert.Equal("bafyreig4jv3vuajbsybhyvb7gggvpwh2zszwfyttjrj6qwvcsp24h6popu", tree.RootCid().ToString());
        tree.Remove("com.example.record/3jqfcqzm4fd2j");
        Assert.Equal(l2, tree.RootCid().ToString());

        var trim = MstTree.Create(new[] { "3jqfcqzm3fn2j", "3jqfcqzm3fo2j", "3jqfcqzm3fp2j", "3jqfcqzm3fs2j", "3jqfcqzm3ft2j", "3jqfcqzm3fu2j" }
            .Select(k => KeyValuePair.Create("com.example.record/" + k, Leaf)));
        Assert.Equal("bafyreifnqrwbk6ffmyaz5qtujqrzf5qmxf7cbxvgzktl4e3gabuxbtatv4", trim.RootCid().ToString());
        trim.Remove("com.example.record/3jqfcqzm3fs2j");
        Assert.Equal(0, trim.RootLayer);
        Assert.Equal("bafyreie4kjuxbwkhzg2i5dljaswcroeih4dgiqq6pazcmunwt2byd725vi", trim.RootCid().ToString());
    }

    private static readonly Cid Leaf = Cid.Parse("bafyreie5cvv4h45feadgeuwhbcutmh6t2ceseocckahdoe6uat64zmz454");
}
