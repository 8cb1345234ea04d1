using System.Collections.Concurrent;
using AtSync.AtProto.Syntax;
using AtSync.Core.Forum;
using AtSync.QueueWorker.Boards;
using AtSync.QueueWorker.Delivery;
using AtSync.QueueWorker.Queue;
using AtSync.QueueWorker.Records;
using AtSync.QueueWorker.Sessions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace AtSync.QueueWorker;

/// <summary>
/// Processes one batch, in sequence: claim rows (<see cref="QueueStore"/>) → load the users' sessions and the phpBB
/// rows (<see cref="BatchSessions"/>, <see cref="PostSource"/>, <see cref="BoardSource"/> for the forum account's board
/// rows) → plan each row (<see cref="WritePlanner"/>, <see cref="BoardPlanner"/>, pure) →
/// write to the users' PDSes, several at once (<see cref="PdsWriter"/>) → finish: every row's outcome in one transaction.
/// </summary>
public sealed partial class QueueProcessor(
    QueueStore store,
    PostSource posts,
    BoardSource boards,
    UserSessions sessions,
    WritePlanner planner,
    PdsWriter writer,
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

    /// <summary>One batch's rows, their sessions, and what became of each.</summary>
    private sealed class Batch(IReadOnlyList<QueueRow> rows, BatchSessions sessions)
    {
        public IReadOnlyList<QueueRow> Rows { get; } = rows;
        public BatchSessions Sessions { get; } = sessions;
        public ConcurrentDictionary<long, RowOutcome> Outcomes { get; } = new();
        public ConcurrentDictionary<long, bool> WriteStarted { get; } = new();
        public ConcurrentDictionary<long, StrongRef> PublishedNow { get; } = new();
        public HashSet<long> CreatesInBatch { get; } = rows.Where(r => r is { Operation: QueueOperation.Create, LocalId: not null, IsBoard: false }).Select(r => r.LocalId!.Value).ToHashSet();
    }

    /// <summary>
    /// Claims and processes one batch. <paramref name="abort"/> abandons in-flight writes (graceful shutdown after its
    /// grace period): their rows are released, never lost.
    /// </summary>
    public async Task<BatchResult> ProcessBatchAsync(CancellationToken abort)
    {
        var o = options.Value;
        var rows = await store.ClaimAsync(o.BatchSize, time.GetUtcNow(), o.LeaseDuration, _tids, abort);
        if (rows.Count == 0) return BatchResult.Empty;

        var batch = new Batch(rows, new BatchSessions(sessions));
        try
        {
            await RunAsync(batch, abort);
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
        return await FinishAsync(batch);
    }

    /// <summary>Load, then plan and write in two waves: replies whose topic is created in this batch go second.</summary>
    private async Task RunAsync(Batch batch, CancellationToken abort)
    {
        var rows = batch.Rows;
        await batch.Sessions.OpenAsync(rows.Select(r => r.UserDid).Distinct(StringComparer.Ordinal).ToList(), abort);
        var postIds = rows.Where(r => r is { LocalId: not null, IsBoard: false }).Select(r => r.LocalId!.Value).Distinct().ToList();
        var loaded = await posts.LoadAsync(postIds, rows.Select(r => r.Id).ToList(), abort);
        var forumIds = rows.Where(r => r is { LocalId: not null, IsBoard: true }).Select(r => r.LocalId!.Value).Distinct().ToList();
        var context = new PlanningContext(loaded, batch.CreatesInBatch, batch.PublishedNow, await boards.LoadAsync(forumIds, abort));
        var now = time.GetUtcNow();

        var ready = new List<QueueRow>();
        var afterRoots = new List<QueueRow>();
        foreach (var row in rows)
        {
            if (batch.Sessions.For(row.UserDid) is SessionProblem problem)
            {
                batch.Outcomes[row.Id] = Settle(planner.ForSessionProblem(row, problem, now));
            }
            else if (context.WaitsForRootInBatch(row))
            {
                afterRoots.Add(row);
            }
            else
            {
                ready.Add(row);
            }
        }
        // A board whose parent's row is in this batch goes in a later wave than the parent, so it refers to the parent's new record.
        var laterBoards = ready.Where(r => r.IsBoard).ToList();
        ready.RemoveAll(r => r.IsBoard);
        while (true)
        {
            var waiting = laterBoards.Select(r => r.LocalId ?? 0).ToHashSet();
            var wave = laterBoards.Where(r => !(r.LocalId is { } id && context.Boards.Forums.TryGetValue(id, out var forum)
                && forum.ParentId != id && waiting.Contains(forum.ParentId))).ToList();
            if (wave.Count == 0) wave = laterBoards; // a cycle in phpBB's tree: no order helps
            ready.AddRange(wave);
            laterBoards = laterBoards.Except(wave).ToList();
            await WriteAllAsync(batch, context, ready, abort);
            ready.Clear();
            if (laterBoards.Count == 0) break;
        }
        if (afterRoots.Count > 0) await WriteAllAsync(batch, context, afterRoots, abort);
    }

    private async Task WriteAllAsync(Batch batch, PlanningContext context, List<QueueRow> rows, CancellationToken abort)
    {
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.Value.MaxConcurrentWrites, CancellationToken = abort };
        await Parallel.ForEachAsync(rows, parallel, async (row, ct) =>
        {
            var outcome = await PlanAndWriteAsync(batch, context, row, ct);
            batch.Outcomes[row.Id] = outcome;
            if (outcome is RowOutcome.Done { AtUri: { } uri, AtCid: { } cid } && row is { Operation: QueueOperation.Create, LocalId: { } post, IsBoard: false })
            {
                batch.PublishedNow[post] = new StrongRef(uri, cid);
            }
            if (outcome is RowOutcome.Done { AtUri: { } boardUri, AtCid: { } boardCid } && row is { IsBoard: true, LocalId: { } forumId })
            {
                context.Boards.PublishedNow[forumId] = new StrongRef(boardUri, boardCid);
            }
        });
    }

    private async Task<RowOutcome> PlanAndWriteAsync(Batch batch, PlanningContext context, QueueRow row, CancellationToken ct)
    {
        var session = ((SessionResult.Opened)batch.Sessions.For(row.UserDid)).Session;
        var plan = row.IsBoard ? BoardPlanner.Plan(row, context.Boards, session.Did, time.GetUtcNow()) : planner.Plan(row, context, session.Did, time.GetUtcNow());
        switch (plan)
        {
            case RowPlan.Decided decided:
                return Settle(decided);
            case RowPlan.Send send:
                if (writer.Reserve(session, send.Write) is { } deferred) return deferred;
                batch.WriteStarted[row.Id] = true;
                return await writer.SendAsync(row, send.Write, session, batch.Sessions, ct);
            default:
                throw new InvalidOperationException("unknown row plan");
        }
    }

    private RowOutcome Settle(RowPlan.Decided decided)
    {
        if (decided.FailureReason is { } reason) metrics.Failed(reason);
        return decided.Outcome;
    }

    /// <summary>Records every row's outcome (rows without one are released), dead-letters users who must sign in again, counts.</summary>
    private async Task<BatchResult> FinishAsync(Batch batch)
    {
        var rows = batch.Rows;
        var results = rows
            .Select(row => (row, batch.Outcomes.TryGetValue(row.Id, out var outcome) ? outcome : new RowOutcome.Released(batch.WriteStarted.ContainsKey(row.Id))))
            .ToList();
        using (var finishTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(15)))
        {
            await store.FinishAsync(results, time.GetUtcNow(), finishTimeout.Token);
        }
        foreach (var (did, reason) in batch.Sessions.SignInRequired)
        {
            var count = await store.DeadLetterUserAsync(did, reason, time.GetUtcNow(), CancellationToken.None);
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
            results.Count(r => r.Item2 is RowOutcome.Failed && r.row.Attempts < r.row.MaxAttempts),
            results.Count(r => r.Item2 is RowOutcome.Deferred),
            results.Count(r => r.Item2 is RowOutcome.DeadLetter || (r.Item2 is RowOutcome.Failed && r.row.Attempts >= r.row.MaxAttempts)),
            results.Count(r => r.Item2 is RowOutcome.Released));
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
