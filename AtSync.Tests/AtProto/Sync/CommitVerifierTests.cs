using AtSync.AtProto.Car;
using AtSync.AtProto.Cids;
using AtSync.AtProto.Crypto;
using AtSync.AtProto.EventStream;
using AtSync.AtProto.Mst;
using AtSync.AtProto.Sync;

namespace AtSync.Tests.AtProto.Sync;

/// <summary>Hand-made commits from a generated repository: the good ones verify, each kind of bad one is refused with its reason.</summary>
public sealed class CommitVerifierTests
{
    private const string Posts = "net.vza.forum.post";

    private static TestRepository Filled(int records = 200)
    {
        var repo = new TestRepository();
        for (var i = 0; i < records; i++)
        {
            repo.Put($"{Posts}/3k{i:D11}", $"post {i}");
        }

        repo.Commit(($"{Posts}/3kseed", "seed"));
        return repo;
    }

    private static CommitVerdict Verify(TestRepository repo, CommitEvent commit, RepoSyncState? previous = null)
        => CommitVerifier.Verify(commit, repo.Key.PublicKey, previous);

    [Fact]
    public void Creates_updates_and_deletes_verify_and_survive_the_wire_format()
    {
        using var repo = Filled();
        var before = repo.State;
        var commit = repo.Commit(($"{Posts}/3knew", "new"), ($"{Posts}/3k{5:D11}", "edited"), ($"{Posts}/3k{7:D11}", null));
        Assert.Equal([RepoAction.Create, RepoAction.Update, RepoAction.Delete], commit.Ops.Select(o => o.Action));

        var verdict = Verify(repo, commit, before);
        Assert.Equal(CommitRejection.None, verdict.Reason);
        Assert.Equal(repo.State, verdict.State);

        var decoded = (CommitEvent)FrameDecoder.DecodeRepoFrame(FrameEncoder.Encode(commit));
        Assert.Equal(CommitRejection.None, Verify(repo, decoded, before).Reason);
    }

    [Fact]
    public void A_create_whose_cid_is_not_in_the_tree_is_refused()
    {
        using var repo = Filled();
        var commit = repo.Commit(($"{Posts}/3knew", "new"));
        var forged = commit with { Ops = [new RepoOp(RepoAction.Create, $"{Posts}/3knew", repo.Record(Posts, "something else"))] };
        Assert.Equal(CommitRejection.OpNotInTree, Verify(repo, forged).Reason);

        var elsewhere = commit with { Ops = [new RepoOp(RepoAction.Create, $"{Posts}/3kabsent", commit.Ops[0].Cid)] };
        Assert.Equal(CommitRejection.OpNotInTree, Verify(repo, elsewhere).Reason);
    }

    [Fact]
    public void A_wrong_prev_does_not_invert_to_prevData()
    {
        using var repo = Filled();
        var commit = repo.Commit(($"{Posts}/3k{5:D11}", "edited"));
        var op = commit.Ops[0];
        var wrongPrev = commit with { Ops = [new RepoOp(RepoAction.Update, op.Path, op.Cid, repo.Record(Posts, "not the old one"))] };
        Assert.Equal(CommitRejection.InvertedRootMismatch, Verify(repo, wrongPrev).Reason);

        var delete = repo.Commit(($"{Posts}/3k{9:D11}", null));
        var wrongDeletePrev = delete with { Ops = [new RepoOp(RepoAction.Delete, delete.Ops[0].Path, null, op.Cid)] };
        Assert.Equal(CommitRejection.InvertedRootMismatch, Verify(repo, wrongDeletePrev).Reason);
    }

    [Fact]
    public void A_tree_that_does_not_invert_to_prevData_is_refused()
    {
        using var repo = Filled();
        var twoChanges = repo.Commit(($"{Posts}/3ka", "a"), ($"{Posts}/3kb", "b"));
        var oneListed = twoChanges with { Ops = [twoChanges.Ops[0]] };
        Assert.Equal(CommitRejection.InvertedRootMismatch, Verify(repo, oneListed).Reason);

        var otherPrevData = twoChanges with { PrevData = repo.Record(Posts, "not a tree") };
        Assert.Equal(CommitRejection.InvertedRootMismatch, Verify(repo, otherPrevData).Reason);
    }

    [Fact]
    public void A_deleted_path_still_in_the_tree_is_refused()
    {
        using var repo = Filled();
        var commit = repo.Commit(($"{Posts}/3knew", "new"));
        var present = $"{Posts}/3k{3:D11}";
        var forged = commit with { Ops = [.. commit.Ops, new RepoOp(RepoAction.Delete, present, null, repo.Tree.Get(present))] };
        Assert.Equal(CommitRejection.DeletedPathPresent, Verify(repo, forged).Reason);
    }

    [Fact]
    public void Blocks_that_do_not_prove_the_ops_are_an_incomplete_proof()
    {
        using var repo = Filled();
        var commit = repo.Commit(($"{Posts}/3knew", "new"));
        Assert.True(repo.Tree.RootLayer > 0);
        var rootOnly = commit.Blocks.Blocks.ToArray().Where(b => b.Cid == commit.Commit || b.Cid == repo.Data).ToList();
        var stripped = repo.Event(commit.Commit, rootOnly, commit.Ops, commit.PrevData, commit.Since, commit.Rev);
        Assert.Equal(CommitRejection.IncompleteProof, Verify(repo, stripped).Reason);

        var noTree = repo.Event(commit.Commit, rootOnly.Where(b => b.Cid == commit.Commit), commit.Ops, commit.PrevData, commit.Since, commit.Rev);
        Assert.Equal(CommitRejection.IncompleteProof, Verify(repo, noTree).Reason);
    }

    [Fact]
    public void Stale_revs_and_broken_chains_are_refused_against_the_last_verified_state()
    {
        using var repo = Filled();
        var first = repo.Commit(($"{Posts}/3ka", "a"));
        var afterFirst = repo.State;
        var second = repo.Commit(($"{Posts}/3kb", "b"));
        Assert.True(Verify(repo, second, afterFirst).IsVerified);

        Assert.Equal(CommitRejection.StaleRev, Verify(repo, first, afterFirst).Reason);
        Assert.Equal(CommitRejection.StaleRev, Verify(repo, second, repo.State).Reason);
        var third = repo.Commit(($"{Posts}/3kc", "c"));
        Assert.Equal(CommitRejection.ChainBroken, Verify(repo, third, afterFirst).Reason);
        Assert.Equal(CommitRejection.ChainBroken, Verify(repo, third with { PrevData = afterFirst.Data }, afterFirst).Reason);
    }

    [Fact]
    public void Signatures_and_commit_fields_are_checked()
    {
        using var repo = Filled();
        var commit = repo.Commit(($"{Posts}/3knew", "new"));
        using var stranger = SigningKey.Generate(KeyCurve.Secp256k1);
        Assert.Equal(CommitRejection.BadSignature, CommitVerifier.Verify(commit, stranger.PublicKey).Reason);

        var (cid, bytes) = repo.SignCommit(repo.Data, commit.Rev, stranger);
        var resigned = repo.Event(cid, [new CarBlock(cid, bytes), .. commit.Blocks.Blocks.ToArray().Skip(1)], commit.Ops, commit.PrevData, commit.Since);
        Assert.Equal(CommitRejection.BadSignature, Verify(repo, resigned).Reason);

        Assert.Equal(CommitRejection.CommitMismatch, Verify(repo, commit with { Repo = "did:plc:someoneelse000000000000" }).Reason);
        Assert.Equal(CommitRejection.CommitMismatch, Verify(repo, commit with { Rev = repo.NextRev() }).Reason);
        Assert.Equal(CommitRejection.MalformedCommit, Verify(repo, commit with { Commit = repo.Data }).Reason);
        Assert.Equal(CommitRejection.MissingPrevData, Verify(repo, commit with { PrevData = null }).Reason);
    }

    [Fact]
    public void A_CAR_read_without_hashing_is_checked_block_by_block_as_the_verifier_uses_it()
    {
        using var repo = Filled();
        var before = repo.State;
        var commit = repo.Commit(($"{Posts}/3knew", "new"));
        static CommitEvent Unhashed(CommitEvent c, IEnumerable<CarBlock> blocks) => c with
        {
            Blocks = CarReader.Read(CarWriter.Write([c.Commit], blocks), CarReadOptions.Default with { VerifyBlocks = false }),
        };

        var honest = Unhashed(commit, commit.Blocks.Blocks.ToArray());
        Assert.False(honest.Blocks.BlocksVerified);
        Assert.Equal(CommitRejection.None, Verify(repo, honest, before).Reason);

        // A commit object the author really signed (of the tree before), under this commit's CID: its signature passes.
        var (_, otherBytes) = repo.SignCommit(before.Data, commit.Rev, repo.Key);
        var swapped = Unhashed(commit, [new CarBlock(commit.Commit, otherBytes), .. commit.Blocks.Blocks.ToArray().Where(b => b.Cid != commit.Commit)]);
        var verdict = Verify(repo, swapped, before);
        Assert.Equal(CommitRejection.MalformedCommit, verdict.Reason);
        Assert.Contains("hash", verdict.Detail);
        Assert.Throws<CarException>(() => swapped.ReadCommitBlock());
        var sync = new SyncEvent { Seq = 1, Did = repo.Did, Rev = commit.Rev, Time = commit.Time, Blocks = swapped.Blocks };
        Assert.Throws<CarException>(() => sync.ReadCommitBlock());
        Assert.Equal(commit.Rev, (sync with { Blocks = honest.Blocks }).ReadCommitBlock().Rev);

        // An MST node whose bytes are not its CID's.
        var node = commit.Blocks.Blocks.ToArray().First(b => b.Cid == repo.Data);
        var nodeBytes = node.Data.ToArray();
        nodeBytes[^1] ^= 0xff;
        var tampered = Unhashed(commit, commit.Blocks.Blocks.ToArray().Select(b => b.Cid == repo.Data ? new CarBlock(b.Cid, nodeBytes) : b));
        Assert.Equal(CommitRejection.MalformedTree, Verify(repo, tampered, before).Reason);
    }

    [Fact]
    public void Malformed_and_repeated_ops_are_refused()
    {
        using var repo = Filled();
        var commit = repo.Commit(($"{Posts}/3k{5:D11}", "edited"));
        var op = commit.Ops[0];
        Assert.Equal(CommitRejection.MalformedOp, Verify(repo, commit with { Ops = [new RepoOp(RepoAction.Update, op.Path, op.Cid, null)] }).Reason);
        Assert.Equal(CommitRejection.MalformedOp, Verify(repo, commit with { Ops = [new RepoOp(RepoAction.Update, op.Path, op.Cid, op.Cid)] }).Reason);
        Assert.Equal(CommitRejection.MalformedOp, Verify(repo, commit with { Ops = [new RepoOp(RepoAction.Delete, op.Path, op.Cid, op.Prev)] }).Reason);
        Assert.Equal(CommitRejection.MalformedOp, Verify(repo, commit with { Ops = [op, op] }).Reason);
        Assert.Equal(CommitRejection.MalformedOp, Verify(repo, commit with { Ops = [new RepoOp(RepoAction.Update, $"{Posts}/bad key", op.Cid, op.Prev)] }).Reason);
    }

    [Fact]
    public void A_signed_tree_that_is_not_canonical_is_refused()
    {
        using var repo = Filled(0);
        var value = repo.Record(Posts, "x");
        // Two keys in one node in descending order: decodes as DAG-CBOR but is no MST.
        var node = MstNodeCodec.Encode(new MstNodeData(null, [new MstEntryData("b/2"u8.ToArray(), value, null), new MstEntryData("b/1"u8.ToArray(), value, null)]));
        var root = Cid.ForDagCbor(node);
        var rev = repo.NextRev();
        var (cid, bytes) = repo.SignCommit(root, rev, repo.Key);
        var commit = repo.Event(cid, [new CarBlock(cid, bytes), new CarBlock(root, node)], [new RepoOp(RepoAction.Create, "b/1", value)], repo.Data, repo.Rev, rev);
        Assert.Equal(CommitRejection.MalformedTree, Verify(repo, commit).Reason);
    }

    [Fact]
    public void A_misplaced_node_below_the_root_is_refused_when_the_ops_reach_it()
    {
        using var repo = Filled(0);
        var value = repo.Record(Posts, "x");
        Assert.Equal(2, MstKey.Height("D2/269196"u8));
        Assert.Equal(0, MstKey.Height("A0/374913"u8));
        // The root (layer 2) points to a layer-0 node where a layer-1 node belongs.
        var child = MstNodeCodec.Encode(new MstNodeData(null, [new MstEntryData("A0/374913"u8.ToArray(), value, null)]));
        var node = MstNodeCodec.Encode(new MstNodeData(Cid.ForDagCbor(child), [new MstEntryData("D2/269196"u8.ToArray(), value, null)]));
        var root = Cid.ForDagCbor(node);
        var rev = repo.NextRev();
        var (cid, bytes) = repo.SignCommit(root, rev, repo.Key);
        var blocks = new[] { new CarBlock(cid, bytes), new CarBlock(root, node), new CarBlock(Cid.ForDagCbor(child), child) };
        var commit = repo.Event(cid, blocks, [new RepoOp(RepoAction.Create, "A0/374913", value)], repo.Data, repo.Rev, rev);
        Assert.Equal(CommitRejection.MalformedTree, Verify(repo, commit).Reason);
    }
}
