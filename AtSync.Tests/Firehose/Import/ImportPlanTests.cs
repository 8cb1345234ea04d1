using AtSync.AtProto.Cids;
using AtSync.AtProto.DagCbor;
using AtSync.AtProto.Sync;
using AtSync.Core.Forum;
using AtSync.Firehose.Events;
using AtSync.Firehose.Import;
using AtSync.Testing.Synthetic;

namespace AtSync.Tests.Firehose.Import;

/// <summary>The difference between a repository and phpBB, as ordered operations (pure).</summary>
public sealed class ImportPlanTests
{
    private const string Did = "did:plc:planplanplanplanplanplan";
    private static readonly StrongRef Board = ImportHarness.Board;

    private static RepoRecord Record(string rkey, ForumPostRecord post)
    {
        var bytes = ForumFrameFactory.PostRecord(post);
        return new RepoRecord(ForumLexicon.Post, rkey, Cid.ForDagCbor(bytes), DagCborReader.Decode(bytes));
    }

    private static string Uri(string rkey) => $"at://{Did}/{ForumLexicon.Post}/{rkey}";

    private static ForumPostRecord Topic(string at) => new("topic", at, Board, "subject", null, null, null);

    private static ForumPostRecord Reply(string rootRkey, Cid root, string at) =>
        new("reply", at, Board, null, new StrongRef(Uri(rootRkey), root.ToString()), new StrongRef(Uri(rootRkey), root.ToString()), null);

    [Fact]
    public void Records_are_planned_oldest_first_replies_never_before_their_topic_and_deletes_last()
    {
        var late = Record("3kaaaaaaaaaa4", Topic("2026-05-01T10:00:00.000Z"));
        var early = Record("3kaaaaaaaaaa2", Topic("2026-05-01T08:00:00.000Z"));
        // A reply dated before its own topic (a skewed clock): still after the topic.
        var skewed = Record("3kaaaaaaaaaa5", Reply("3kaaaaaaaaaa4", late.Cid, "2026-05-01T07:00:00.000Z"));
        var reply = Record("3kaaaaaaaaaa3", Reply("3kaaaaaaaaaa2", early.Cid, "2026-05-01T09:00:00.000Z"));
        var same = Record("3kaaaaaaaaaa6", Topic("2026-05-01T06:00:00.000Z"));
        var edited = Record("3kaaaaaaaaaa7", Topic("2026-05-01T05:00:00.000Z"));
        var held = new Dictionary<string, HeldRecord>(StringComparer.Ordinal)
        {
            [Uri("3kaaaaaaaaaa6")] = new(Uri("3kaaaaaaaaaa6"), same.Cid.ToString(), Confirmed: true, Deleted: false),
            [Uri("3kaaaaaaaaaa7")] = new(Uri("3kaaaaaaaaaa7"), "bafyreiold", Confirmed: true, Deleted: false),
            [Uri("3kgone")] = new(Uri("3kgone"), "bafyreigone", Confirmed: true, Deleted: false),
            // Published by the QueueWorker, not confirmed yet: not in the repository is not "deleted".
            [Uri("3kpending")] = new(Uri("3kpending"), "", Confirmed: false, Deleted: false),
            [Uri("3kdeleted")] = new(Uri("3kdeleted"), "bafyreidel", Confirmed: true, Deleted: true),
        };

        var plan = ImportPlan.Create(Did, [late, early, skewed, reply, same, edited], held, eventTime: 1_800_000_000);

        Assert.Equal(
            ["update 3kaaaaaaaaaa7", "create 3kaaaaaaaaaa2", "create 3kaaaaaaaaaa3", "create 3kaaaaaaaaaa4", "create 3kaaaaaaaaaa5", "delete 3kgone"],
            plan.Ops.Select(o => $"{o.Action} {o.Rkey}"));
        Assert.Equal((4, 1, 1, 1), (plan.Creates, plan.Updates, plan.Deletes, plan.Unchanged));
        Assert.All(plan.Ops.Where(o => o.Action != ForumOp.Delete), o => Assert.NotNull(o.Post));
    }
}
