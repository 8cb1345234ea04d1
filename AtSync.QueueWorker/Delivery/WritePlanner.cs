using AtSync.AtProto.Syntax;
using AtSync.AtProto.Xrpc;
using AtSync.Core.Forum;
using AtSync.QueueWorker.Queue;
using AtSync.QueueWorker.Records;
using AtSync.QueueWorker.Sessions;

namespace AtSync.QueueWorker.Delivery;

/// <summary>What a batch knows when it plans its rows: the phpBB rows it loaded, and the records it published so far.</summary>
public sealed record PlanningContext(BatchContext Loaded, IReadOnlySet<long> CreatesInBatch, IReadOnlyDictionary<long, StrongRef> PublishedNow,
    AtSync.QueueWorker.Boards.BoardContext Boards)
{
    /// <summary>
    /// A reply (or edit) whose topic's first post is created in this same batch waits for that create: it is planned in
    /// the batch's second wave, when the first post's record exists.
    /// </summary>
    public bool WaitsForRootInBatch(QueueRow row) =>
        row is { Operation: not QueueOperation.Delete, RecordData: null, LocalId: { } id, IsBoard: false }
        && Loaded.Posts.TryGetValue(id, out var post)
        && !post.IsTopicStarter
        && !Loaded.Published.ContainsKey(post.TopicFirstPostId)
        && CreatesInBatch.Contains(post.TopicFirstPostId);
}

/// <summary>
/// Decides, without I/O, what a claimed row becomes: the record to create, put or delete (built from the phpBB rows
/// by <see cref="PostRecordBuilder"/>, or given in <c>record_data</c>), or an outcome when there is nothing to send
/// (post gone or hidden, topic not published yet, invalid row).
/// </summary>
public sealed class WritePlanner(RetrySchedule retry, Microsoft.Extensions.Options.IOptions<QueueWorkerOptions> options)
{
    public RowPlan Plan(QueueRow row, PlanningContext context, string userDid, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(row);
        ArgumentNullException.ThrowIfNull(context);
        if (row.Operation == QueueOperation.Delete) return PlanDelete(row, context, userDid);
        if (row.RecordData is { } data) return PlanGiven(row, data);
        return PlanPost(row, context, userDid, now);
    }

    /// <summary>The outcome of a row whose user has no usable session.</summary>
    public RowPlan.Decided ForSessionProblem(QueueRow row, SessionProblem problem, DateTimeOffset now) => problem switch
    {
        SessionProblem.SignInRequired signIn => new(new RowOutcome.DeadLetter("user must sign in again", signIn.Reason), "sign_in_required"),
        SessionProblem.NotLinked => new(new RowOutcome.DeadLetter("no PDS session", problem.Reason), "not_linked"),
        _ => new(new RowOutcome.Failed("token refresh", problem.Reason, now + retry.DelayAfter(row.Attempts)), "token_refresh"),
    };

    private static RowPlan PlanDelete(QueueRow row, PlanningContext context, string userDid)
    {
        var rkey = row.Rkey;
        if (rkey.Length == 0 && row.LocalId is { } deleted)
        {
            if (!context.Loaded.Published.TryGetValue(deleted, out var published)) return Skip("the post has no published record");
            if (RkeyIn(published.Uri, userDid, row.Collection) is not { } own) return Skip("the published record is not in this user's repository");
            rkey = own;
        }
        if (rkey.Length == 0) return Invalid("a delete needs an rkey or a local_id");
        return new RowPlan.Send(new PlannedWrite(QueueOperation.Delete, rkey, ReadOnlyMemory<byte>.Empty, false));
    }

    /// <summary>Enqueued by something other than the outbox triggers: the record is given.</summary>
    private static RowPlan PlanGiven(QueueRow row, string data)
    {
        try
        {
            var element = XrpcRecord.FromJson(data);
            var bytes = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(element, XrpcJsonContext.Default.JsonElement);
            if (row.Rkey.Length == 0) return Invalid("an update with record_data needs an rkey");
            return new RowPlan.Send(new PlannedWrite(row.Operation, row.Rkey, bytes, false));
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or ArgumentException)
        {
            return Invalid("record_data is not a JSON object");
        }
    }

    private RowPlan PlanPost(QueueRow row, PlanningContext context, string userDid, DateTimeOffset now)
    {
        var loaded = context.Loaded;
        if (row.LocalId is not { } postId) return Invalid("neither record_data nor local_id");
        if (!loaded.Posts.TryGetValue(postId, out var post)) return Skip("the phpBB post no longer exists");
        if (post.Visibility != PhpbbConstants.ItemApproved) return Skip("the phpBB post is not visible");

        string rkey;
        if (row.Operation == QueueOperation.Create)
        {
            rkey = row.Rkey;
        }
        else if (loaded.Published.TryGetValue(postId, out var current) && RkeyIn(current.Uri, userDid, row.Collection) is { } existing)
        {
            rkey = existing;
        }
        else
        {
            return Skip("an edit of a post that has no published record in this user's repository");
        }

        if (!loaded.Forums.TryGetValue(post.ForumId, out var forum))
        {
            return new RowPlan.Decided(
                new RowOutcome.Failed("no board record", $"forum {post.ForumId} has no row in atproto_forums", now + retry.DelayAfter(row.Attempts)),
                "no_board_record");
        }

        StrongRef? root = null;
        if (!post.IsTopicStarter
            && !loaded.Published.TryGetValue(post.TopicFirstPostId, out root)
            && !context.PublishedNow.TryGetValue(post.TopicFirstPostId, out root))
        {
            if (loaded.QueuedPosts.Contains(post.TopicFirstPostId) || context.CreatesInBatch.Contains(post.TopicFirstPostId))
            {
                return new RowPlan.Decided(new RowOutcome.Deferred("waiting for the topic's first post to be published", now + options.Value.DependencyWait));
            }
            return new RowPlan.Decided(
                new RowOutcome.Failed("topic not published", $"the topic's first post {post.TopicFirstPostId} has no record on the AT network",
                    now + retry.DelayAfter(row.Attempts)),
                "root_not_published");
        }

        try
        {
            return new RowPlan.Send(new PlannedWrite(row.Operation, rkey, PostRecordBuilder.Build(post, forum, root), post.IsTopicStarter));
        }
        catch (RecordBuildException ex)
        {
            return new RowPlan.Decided(new RowOutcome.DeadLetter("invalid record", ex.Message), "invalid_record");
        }
    }

    private static RowPlan.Decided Skip(string reason) => new(new RowOutcome.Skipped(reason));

    private static RowPlan.Decided Invalid(string error) => new(new RowOutcome.DeadLetter("invalid queue row", error));

    private static string? RkeyIn(string uri, string did, string collection) =>
        AtUri.TryParse(uri, out var parsed) && parsed.Authority == did && parsed.Collection?.Value == collection && parsed.RecordKey is { } rkey
            ? rkey.Value
            : null;
}
