using System.Collections.Concurrent;
using System.Net;
using AtSync.AtProto.Syntax;
using AtSync.AtProto.Xrpc;
using AtSync.Core.Forum;
using AtSync.QueueWorker.Delivery;
using AtSync.QueueWorker.Queue;
using AtSync.QueueWorker.Records;
using AtSync.QueueWorker.Sessions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace AtSync.QueueWorker;

/// <summary>
/// Processes one batch: claim rows, open the users' sessions, read the phpBB rows, build the records, write them to the
/// users' PDSes (several at once), and record every row's outcome in one transaction.
/// </summary>
public sealed partial class QueueProcessor(
    QueueStore store,
    PostSource posts,
    UserSessions sessions,
    PdsClients pds,
    RetrySchedule retry,
    RateBudget budget,
    QueueMetrics metrics,
    IOptions<QueueWorkerOptions> options,
    TimeProvider time,
    ILogger<QueueProcessor> logger)
{
    private readonly TidGenerator _tids = new(time);

    public sealed record BatchResult(int Claimed, int Done, int Failed, int Deferred, int DeadLettered, int Released)
    {
        public static readonly BatchResult Empty = new(0, 0, 0, 0, 0, 0);
    }

    /// <summary>Work of one batch shared by its rows.</summary>
    private sealed class Batch(IReadOnlyList<QueueRow> rows)
    {
        public IReadOnlyList<QueueRow> Rows { get; } = rows;
        public ConcurrentDictionary<long, RowOutcome> Outcomes { get; } = new();
        public ConcurrentDictionary<long, bool> WriteStarted { get; } = new();
        public ConcurrentDictionary<string, string> SignInRequired { get; } = new(StringComparer.Ordinal);
        public ConcurrentDictionary<string, UserSession> Sessions { get; } = new(StringComparer.Ordinal);
        public ConcurrentDictionary<string, Lazy<Task<(UserSession?, SessionProblem?)>>> Refreshes { get; } = new(StringComparer.Ordinal);
        public ConcurrentDictionary<long, StrongRef> PublishedNow { get; } = new();
        public HashSet<long> CreatesInBatch { get; } = rows.Where(r => r is { Operation: QueueOperation.Create, LocalId: not null }).Select(r => r.LocalId!.Value).ToHashSet();
        public BatchContext Context { get; set; } = new(new Dictionary<long, PhpbbPost>(), new Dictionary<long, StrongRef>(), new Dictionary<long, StrongRef>(), new HashSet<long>());
    }

    /// <summary>
    /// Claims and processes one batch. <paramref name="abort"/> abandons in-flight writes (graceful shutdown after its
    /// grace period): their rows are released, never lost.
    /// </summary>
    public async Task<BatchResult> ProcessBatchAsync(CancellationToken abort)
    {
        var o = options.Value;
        var rows = await store.ClaimAsync(o.BatchSize, time.GetUtcNow(), o.LeaseDuration, _tids, abort).ConfigureAwait(false);
        if (rows.Count == 0) return BatchResult.Empty;

        var batch = new Batch(rows);
        try
        {
            await RunAsync(batch, abort).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (abort.IsCancellationRequested)
        {
            LogReleasing(rows.Count - batch.Outcomes.Count);
        }
        catch (MySqlException ex)
        {
            // The database failed mid-batch: rows without an outcome are released if it answers again, else their lease expires.
            LogDatabaseFailure(ex.ErrorCode.ToString());
        }

        var results = rows
            .Select(row => (row, batch.Outcomes.TryGetValue(row.Id, out var outcome) ? outcome : new RowOutcome.Released(batch.WriteStarted.ContainsKey(row.Id))))
            .ToList();
        using (var finishTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(15)))
        {
            await store.FinishAsync(results, time.GetUtcNow(), finishTimeout.Token).ConfigureAwait(false);
        }
        foreach (var (did, reason) in batch.SignInRequired)
        {
            var count = await store.DeadLetterUserAsync(did, reason, time.GetUtcNow(), CancellationToken.None).ConfigureAwait(false);
            if (count > 0) LogUserDeadLettered(did, count);
        }

        foreach (var (row, outcome) in results)
        {
            switch (outcome)
            {
                case RowOutcome.Done: metrics.Processed(row.Operation, "written"); break;
                case RowOutcome.Skipped: metrics.Processed(row.Operation, "skipped"); break;
                case RowOutcome.DeadLetter dead: LogDeadLetter(row.Id, row.UserDid, dead.Reason, dead.Error); break;
                case RowOutcome.Failed failed when row.Attempts >= row.MaxAttempts:
                    LogDeadLetter(row.Id, row.UserDid, failed.Reason, failed.Error);
                    break;
                case RowOutcome.Failed failed:
                    LogRetry(row.Id, row.UserDid, row.Attempts, row.MaxAttempts, failed.Reason, failed.Error, failed.RetryAt);
                    break;
            }
        }
        return new BatchResult(
            rows.Count,
            results.Count(r => r.Item2 is RowOutcome.Done or RowOutcome.Skipped),
            results.Count(r => r.Item2 is RowOutcome.Failed f && r.row.Attempts < r.row.MaxAttempts),
            results.Count(r => r.Item2 is RowOutcome.Deferred),
            results.Count(r => r.Item2 is RowOutcome.DeadLetter || (r.Item2 is RowOutcome.Failed && r.row.Attempts >= r.row.MaxAttempts)),
            results.Count(r => r.Item2 is RowOutcome.Released));
    }

    private async Task RunAsync(Batch batch, CancellationToken abort)
    {
        var rows = batch.Rows;
        var opened = await sessions.GetAsync(rows.Select(r => r.UserDid).Distinct(StringComparer.Ordinal).ToList(), abort).ConfigureAwait(false);
        var postIds = rows.Where(r => r.LocalId is not null).Select(r => r.LocalId!.Value).Distinct().ToList();
        batch.Context = await posts.LoadAsync(postIds, rows.Select(r => r.Id).ToList(), abort).ConfigureAwait(false);
        var now = time.GetUtcNow();

        var ready = new List<QueueRow>();
        var afterRoots = new List<QueueRow>();
        foreach (var row in rows)
        {
            var (session, problem) = opened[row.UserDid];
            if (problem is not null)
            {
                batch.Outcomes[row.Id] = SessionOutcome(batch, row, problem, now);
                continue;
            }
            batch.Sessions.TryAdd(row.UserDid, session!);
            if (WaitsForRootInBatch(batch, row)) afterRoots.Add(row);
            else ready.Add(row);
        }

        await ExecuteAllAsync(batch, ready, abort).ConfigureAwait(false);
        if (afterRoots.Count > 0)
        {
            await ExecuteAllAsync(batch, afterRoots, abort).ConfigureAwait(false);
        }
    }

    private static bool WaitsForRootInBatch(Batch batch, QueueRow row) =>
        row is { Operation: not QueueOperation.Delete, RecordData: null, LocalId: { } id }
        && batch.Context.Posts.TryGetValue(id, out var post)
        && !post.IsTopicStarter
        && !batch.Context.Published.ContainsKey(post.TopicFirstPostId)
        && batch.CreatesInBatch.Contains(post.TopicFirstPostId);

    private async Task ExecuteAllAsync(Batch batch, List<QueueRow> rows, CancellationToken abort)
    {
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.Value.MaxConcurrentWrites, CancellationToken = abort };
        await Parallel.ForEachAsync(rows, parallel, async (row, ct) =>
        {
            var outcome = await ExecuteRowAsync(batch, row, ct).ConfigureAwait(false);
            batch.Outcomes[row.Id] = outcome;
            if (outcome is RowOutcome.Done { AtUri: { } uri, AtCid: { } cid } && row is { Operation: QueueOperation.Create, LocalId: { } post })
            {
                batch.PublishedNow[post] = new StrongRef(uri, cid);
            }
        }).ConfigureAwait(false);
    }

    private RowOutcome SessionOutcome(Batch batch, QueueRow row, SessionProblem problem, DateTimeOffset now)
    {
        switch (problem)
        {
            case SessionProblem.SignInRequired signIn:
                batch.SignInRequired.TryAdd(row.UserDid, signIn.Reason);
                metrics.Failed("sign_in_required");
                return new RowOutcome.DeadLetter("user must sign in again", signIn.Reason);
            case SessionProblem.NotLinked:
                metrics.Failed("not_linked");
                return new RowOutcome.DeadLetter("no PDS session", problem.Reason);
            default:
                metrics.Failed("token_refresh");
                return new RowOutcome.Failed("token refresh", problem.Reason, now + retry.DelayAfter(row.Attempts));
        }
    }

    /// <summary>What to send for a row, or the outcome when there is nothing to send.</summary>
    private sealed record Write(QueueOperation Operation, string Rkey, ReadOnlyMemory<byte> Record, bool IsTopicStarter);

    private async Task<RowOutcome> ExecuteRowAsync(Batch batch, QueueRow row, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var session = batch.Sessions[row.UserDid];
        var (write, outcome) = Plan(batch, row, session, now);
        if (outcome is not null) return outcome;

        var key = session.BudgetKey;
        if (budget.TryReserve(key, write!.Operation) is { } until)
        {
            metrics.Failed("rate_budget");
            return new RowOutcome.Deferred("waiting for the PDS write budget of this user", until);
        }

        batch.WriteStarted[row.Id] = true;
        try
        {
            return await SendAsync(row, session, write, ct).ConfigureAwait(false);
        }
        catch (XrpcException ex) when (IsAuthFailure(ex))
        {
            var refreshed = await batch.Refreshes.GetOrAdd(row.UserDid,
                _ => new Lazy<Task<(UserSession?, SessionProblem?)>>(() => sessions.RefreshAsync(session, ct))).Value.ConfigureAwait(false);
            if (refreshed.Item2 is { } problem)
            {
                budget.Refund(key, write.Operation);
                return SessionOutcome(batch, row, problem, time.GetUtcNow());
            }
            try
            {
                return await SendAsync(row, refreshed.Item1!, write, ct).ConfigureAwait(false);
            }
            catch (XrpcException again)
            {
                return Classify(row, key, write.Operation, again);
            }
        }
        catch (XrpcException ex)
        {
            return Classify(row, key, write.Operation, ex);
        }
    }

    private (Write?, RowOutcome?) Plan(Batch batch, QueueRow row, UserSession session, DateTimeOffset now)
    {
        var context = batch.Context;
        if (row.Operation == QueueOperation.Delete)
        {
            var rkey = row.Rkey;
            if (rkey.Length == 0 && row.LocalId is { } deleted)
            {
                if (!context.Published.TryGetValue(deleted, out var published)) return (null, new RowOutcome.Skipped("the post has no published record"));
                if (RkeyIn(published.Uri, session.Did, row.Collection) is not { } own)
                {
                    return (null, new RowOutcome.Skipped("the published record is not in this user's repository"));
                }
                rkey = own;
            }
            if (rkey.Length == 0) return (null, new RowOutcome.DeadLetter("invalid queue row", "a delete needs an rkey or a local_id"));
            return (new Write(QueueOperation.Delete, rkey, ReadOnlyMemory<byte>.Empty, false), null);
        }

        if (row.RecordData is { } data)
        {
            // Enqueued by something other than the outbox triggers: the record is given.
            try
            {
                var element = XrpcRecord.FromJson(data);
                var bytes = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(element, XrpcJsonContext.Default.JsonElement);
                if (row.Rkey.Length == 0) return (null, new RowOutcome.DeadLetter("invalid queue row", "an update with record_data needs an rkey"));
                return (new Write(row.Operation, row.Rkey, bytes, false), null);
            }
            catch (Exception ex) when (ex is System.Text.Json.JsonException or ArgumentException)
            {
                return (null, new RowOutcome.DeadLetter("invalid queue row", "record_data is not a JSON object"));
            }
        }

        if (row.LocalId is not { } postId) return (null, new RowOutcome.DeadLetter("invalid queue row", "neither record_data nor local_id"));
        if (!context.Posts.TryGetValue(postId, out var post)) return (null, new RowOutcome.Skipped("the phpBB post no longer exists"));
        if (post.Visibility != PhpbbConstants.ItemApproved) return (null, new RowOutcome.Skipped("the phpBB post is not visible"));

        string rkeyToWrite;
        if (row.Operation == QueueOperation.Create)
        {
            rkeyToWrite = row.Rkey;
        }
        else if (context.Published.TryGetValue(postId, out var current) && RkeyIn(current.Uri, session.Did, row.Collection) is { } existing)
        {
            rkeyToWrite = existing;
        }
        else
        {
            return (null, new RowOutcome.Skipped("an edit of a post that has no published record in this user's repository"));
        }

        if (!context.Forums.TryGetValue(post.ForumId, out var forum))
        {
            metrics.Failed("no_board_record");
            return (null, new RowOutcome.Failed("no board record", $"forum {post.ForumId} has no row in atproto_forums", now + retry.DelayAfter(row.Attempts)));
        }

        StrongRef? root = null;
        if (!post.IsTopicStarter)
        {
            if (!context.Published.TryGetValue(post.TopicFirstPostId, out root) && !batch.PublishedNow.TryGetValue(post.TopicFirstPostId, out root))
            {
                if (context.QueuedPosts.Contains(post.TopicFirstPostId) || batch.CreatesInBatch.Contains(post.TopicFirstPostId))
                {
                    return (null, new RowOutcome.Deferred("waiting for the topic's first post to be published", now + options.Value.DependencyWait));
                }
                metrics.Failed("root_not_published");
                return (null, new RowOutcome.Failed("topic not published",
                    $"the topic's first post {post.TopicFirstPostId} has no record on the AT network", now + retry.DelayAfter(row.Attempts)));
            }
        }

        try
        {
            return (new Write(row.Operation, rkeyToWrite, PostRecordBuilder.Build(post, forum, root), post.IsTopicStarter), null);
        }
        catch (RecordBuildException ex)
        {
            metrics.Failed("invalid_record");
            return (null, new RowOutcome.DeadLetter("invalid record", ex.Message));
        }
    }

    private static string? RkeyIn(string uri, string did, string collection) =>
        AtUri.TryParse(uri, out var parsed) && parsed.Authority == did && parsed.Collection?.Value == collection && parsed.RecordKey is { } rkey
            ? rkey.Value
            : null;

    private async Task<RowOutcome> SendAsync(QueueRow row, UserSession session, Write write, CancellationToken ct)
    {
        var client = pds.For(session.PdsUrl);
        var started = time.GetTimestamp();
        var success = false;
        try
        {
            RowOutcome outcome;
            if (write.Operation == QueueOperation.Delete)
            {
                await client.DeleteRecordAsync(new DeleteRecordInput { Repo = session.Did, Collection = row.Collection, Rkey = write.Rkey },
                    session.AccessToken, ct).ConfigureAwait(false);
                outcome = new RowOutcome.Done(null, null, false);
            }
            else
            {
                var record = XrpcRecord.FromUtf8(write.Record.Span);
                var response = write.Operation == QueueOperation.Create && !row.MayHaveBeenWritten
                    ? await client.CreateRecordAsync(new CreateRecordInput { Repo = session.Did, Collection = row.Collection, Rkey = write.Rkey, Record = record },
                        session.AccessToken, ct).ConfigureAwait(false)
                    // A retried create goes out as a put at the same rkey: if the first attempt reached the PDS this replaces
                    // the record with itself instead of creating a second one.
                    : await client.PutRecordAsync(new PutRecordInput { Repo = session.Did, Collection = row.Collection, Rkey = write.Rkey, Record = record },
                        session.AccessToken, ct).ConfigureAwait(false);
                outcome = new RowOutcome.Done(response.Value.Uri, response.Value.Cid, write.IsTopicStarter);
            }
            success = true;
            return outcome;
        }
        finally
        {
            metrics.WriteDuration(write.Operation, time.GetElapsedTime(started), success);
        }
    }

    private static bool IsAuthFailure(XrpcException ex) =>
        ex.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.Unauthorized && ex.Error is "ExpiredToken" or "InvalidToken";

    private RowOutcome Classify(QueueRow row, string key, QueueOperation operation, XrpcException ex)
    {
        var now = time.GetUtcNow();
        if (ex.StatusCode == HttpStatusCode.TooManyRequests)
        {
            budget.Refund(key, operation);
            var until = ex.RateLimit?.RetryAt(now) ?? ex.RateLimit?.Reset ?? now + TimeSpan.FromSeconds(60);
            if (until <= now) until = now + TimeSpan.FromSeconds(1);
            budget.BlockUntil(key, until);
            metrics.Failed("rate_limited");
            return new RowOutcome.Deferred($"rate limited by the PDS until {until:O}", until);
        }
        if (ex.IsTransient || ex.Kind == XrpcErrorKind.InvalidResponse || IsAuthFailure(ex))
        {
            var reason = ex.Kind switch
            {
                XrpcErrorKind.Transport => "transport",
                XrpcErrorKind.Timeout => "timeout",
                XrpcErrorKind.InvalidResponse => "invalid_response",
                _ => IsAuthFailure(ex) ? "auth" : "server_error",
            };
            metrics.Failed(reason);
            return new RowOutcome.Failed($"PDS write failed ({reason})", ex.Message, now + retry.DelayAfter(row.Attempts));
        }
        metrics.Failed("rejected");
        return new RowOutcome.DeadLetter("the PDS rejected the write", ex.Message);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Queue row {RowId} ({Did}) failed, attempt {Attempt} of {MaxAttempts}: {Reason}: {Error}; next try at {RetryAt:O}")]
    private partial void LogRetry(long rowId, string did, int attempt, int maxAttempts, string reason, string error, DateTimeOffset retryAt);

    [LoggerMessage(Level = LogLevel.Error, Message = "Queue row {RowId} ({Did}) dead-lettered: {Reason}: {Error}")]
    private partial void LogDeadLetter(long rowId, string did, string reason, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dead-lettered {Count} more pending rows of {Did}: the user must sign in again")]
    private partial void LogUserDeadLettered(string did, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Shutting down: releasing {Count} unfinished queue rows")]
    private partial void LogReleasing(int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The database failed during a batch (error {ErrorCode}); unfinished rows are released")]
    private partial void LogDatabaseFailure(string errorCode);
}
