using System.Data;
using System.Diagnostics;
using AtSync.AtProto.Syntax;
using AtSync.Core.Forum;
using AtSync.Core.Resilience;
using AtSync.Core.Storage;
using AtSync.Firehose.Apply;
using AtSync.Firehose.Apply.Appliers;
using AtSync.Firehose.Apply.Bulk;
using AtSync.Firehose.Events;
using AtSync.Firehose.Verify;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace AtSync.Firehose.Import;

/// <summary>
/// Imports one claimed repository: fetch and verify (<see cref="RepoFetcher"/>; nothing is written before the whole
/// CAR verified), plan the difference with phpBB (<see cref="ImportPlan"/>), apply it in batches through the Firehose's
/// own appliers (the rows the live path makes; record revisions make a repeated import a no-op), saving progress and
/// renewing the lease with each batch; the last batch also makes the repository active at the imported commit, so
/// its held live commits (newer revs) are released after the import, in order. A failure sends the repository back to
/// wait with a per-DID backoff, bounded by <see cref="ImportOptions.MaxAttempts"/>.
/// </summary>
public sealed partial class RepoImporter(
    MySqlDataSource dataSource,
    AtSyncTables tables,
    FirehoseIdentity identity,
    RepoFetcher fetcher,
    RepoStates states,
    AuthorHandles handles,
    ImportMetrics metrics,
    FirehoseMetrics firehoseMetrics,
    IOptions<ImportOptions> options,
    IOptions<PostingOptions> posting,
    TimeProvider time,
    ILogger<RepoImporter> logger)
{
    /// <summary>Imports <paramref name="repo"/>, records the outcome in <c>atproto_repos</c> and the metrics, and returns it.</summary>
    public async Task<ImportResult> RunAsync(ClaimedRepo repo, IProgress<ImportProgress>? progress, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        LogStarted(repo.Did, repo.Attempt, repo.RequestedBy.ToString());
        ImportResult result;
        try
        {
            result = await ImportAsync(repo, progress, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            using var release = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await states.ReleaseAsync(repo, time.GetUtcNow().ToUnixTimeSeconds(), release.Token);
            LogInterrupted(repo.Did);
            throw;
        }
        catch (MySqlException ex) when (!ct.IsCancellationRequested)
        {
            LogDatabaseError(repo.Did, ex.ErrorCode.ToString());
            result = new ImportResult(repo.Did, ImportFailures.DatabaseError, null, null, new BatchOutcome(), 0, 0);
        }
        var elapsed = Stopwatch.GetElapsedTime(started);
        if (result.Succeeded)
        {
            metrics.Import(ImportMetrics.Imported, null, elapsed);
            LogImported(repo.Did, result.Rev ?? "", result.RecordCount, result.Plan?.Creates ?? 0, result.Plan?.Updates ?? 0, result.Plan?.Deletes ?? 0,
                result.Plan?.Unchanged ?? 0, elapsed.TotalSeconds);
            return result;
        }
        if (result.Reason == ImportFailures.LeaseLost)
        {
            metrics.Import(ImportMetrics.LeaseLost, result.Reason, elapsed);
            LogLeaseLost(repo.Did);
            return result;
        }
        var settings = options.Value;
        var giveUp = repo.Attempt >= settings.MaxAttempts;
        var retryAt = time.GetUtcNow() + RetryDelay(repo.Attempt, settings);
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        // Recording the failure must not be cancelled half-way: the row would stay importing until its lease expires.
        await states.FailAsync(repo, result.Reason!, retryAt.ToUnixTimeSeconds(), giveUp, now, CancellationToken.None);
        metrics.Import(giveUp ? ImportMetrics.GaveUp : ImportMetrics.Retry, result.Reason, elapsed);
        if (giveUp) LogGaveUp(repo.Did, result.Reason!, repo.Attempt);
        else LogFailed(repo.Did, result.Reason!, repo.Attempt, retryAt);
        return result;
    }

    /// <summary>The per-DID backoff: <see cref="ImportOptions.RetryInitialDelay"/> doubling per failed attempt, capped, ±20 % jitter.</summary>
    public static TimeSpan RetryDelay(int attempt, ImportOptions settings)
    {
        var backoff = new Backoff(settings.RetryInitialDelay, settings.RetryMaxDelay, jitter: 0.2);
        var delay = backoff.Next();
        for (var i = 1; i < Math.Min(attempt, 40); i++) delay = backoff.Next();
        return delay;
    }

    private async Task<ImportResult> ImportAsync(ClaimedRepo repo, IProgress<ImportProgress>? progress, CancellationToken ct)
    {
        var fetched = await fetcher.FetchAsync(repo.Did, ct);
        if (fetched.Repository is not { } car) return new ImportResult(repo.Did, fetched.Failure, null, null, new BatchOutcome(), fetched.Bytes, 0);
        if (!Tid.TryParse(car.Rev, out var rev)) return Failed(ImportFailures.InvalidRev);
        if (repo.Rev.Length > 0 && string.CompareOrdinal(car.Rev, repo.Rev) < 0)
        {
            // Older than a commit already verified for this DID: a stale or rolled-back PDS.
            return Failed(ImportFailures.StaleRepository);
        }

        var planning = Stopwatch.GetTimestamp();
        var eventTime = EventTimes.Unix(rev.Timestamp);
        var held = await HeldRecordsAsync(repo.Did, ct);
        var plan = ImportPlan.Create(repo.Did, car.Records(ImportPlan.Collections), held, eventTime);
        IReadOnlyDictionary<string, string?> authorHandles = plan.Creates > 0
            ? await handles.ResolveAsync([repo.Did], ct)
            : new Dictionary<string, string?>(StringComparer.Ordinal);

        var settings = options.Value;
        var applied = new BatchOutcome();
        var done = 0;
        var dataCid = car.Data.ToString();
        var applying = Stopwatch.GetTimestamp();
        int bulkBatches = 0, recordBatches = 0;
        ImportTimings Timings() => new()
        {
            Download = fetched.DownloadTime,
            Verify = fetched.VerifyTime,
            Plan = Stopwatch.GetElapsedTime(planning, applying),
            Apply = Stopwatch.GetElapsedTime(applying),
            BulkBatches = bulkBatches,
            RecordBatches = recordBatches,
        };
        do
        {
            var batch = plan.Ops.Skip(done).Take(settings.BatchSize).ToList();
            var last = done + batch.Count >= plan.Ops.Count;
            var (outcome, bulk) = await ApplyBatchAsync(repo, car.Rev, rev.Timestamp, batch, authorHandles, done + batch.Count, last ? dataCid : null, ct);
            if (outcome is null) return new ImportResult(repo.Did, ImportFailures.LeaseLost, car.Rev, plan, applied, fetched.Bytes, car.RecordCount) { Timings = Timings() };
            if (bulk) bulkBatches++;
            else if (batch.Count > 0) recordBatches++;
            outcome.Record(firehoseMetrics);
            applied.Add(outcome);
            done += batch.Count;
            progress?.Report(new ImportProgress(repo.Did, done, plan.Ops.Count));
            if (!last) LogProgress(repo.Did, done, plan.Ops.Count);
        }
        while (done < plan.Ops.Count);

        metrics.Records(ForumOp.Create, plan.Creates);
        metrics.Records(ForumOp.Update, plan.Updates);
        metrics.Records(ForumOp.Delete, plan.Deletes);
        return new ImportResult(repo.Did, null, car.Rev, plan, applied, fetched.Bytes, car.RecordCount) { Timings = Timings() };

        ImportResult Failed(string reason) => new(repo.Did, reason, car.Rev, null, new BatchOutcome(), fetched.Bytes, car.RecordCount);
    }

    /// <summary>
    /// One transaction: the batch's operations (as one commit of the repository at the imported rev) and either the
    /// progress (lease renewed) or, for the last batch, the repository's new state. Null when the lease was lost (rolled
    /// back). A batch of new posts is written in bulk (<see cref="BulkPostWriter"/>, when <see cref="ImportOptions.BulkWrites"/>);
    /// any other goes through the live appliers, one record after another.
    /// </summary>
    private async Task<(BatchOutcome? Outcome, bool Bulk)> ApplyBatchAsync(ClaimedRepo repo, string rev, DateTimeOffset commitTime, IReadOnlyList<ForumOp> ops,
        IReadOnlyDictionary<string, string?> authorHandles, int doneAfter, string? finalDataCid, CancellationToken ct)
    {
        var outcome = new BatchOutcome();
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        // Rows from the network: the outbox triggers must not publish them back.
        await OutboxOrigin.MarkSessionAsync(connection, OutboxOrigin.Firehose, ct);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct);
        var session = new ForumSession(connection, transaction, tables);
        var bulk = ops.Count > 0 && options.Value.BulkWrites
            && await new BulkPostWriter(session, authorHandles, outcome, posting.Value, identity.ForumDid)
                .TryApplyAsync(repo.Did, rev, EventTimes.Unix(commitTime), ops, ct);
        if (ops.Count > 0 && !bulk)
        {
            var applier = new EventApplier(session, identity.LabelerDid, authorHandles, outcome, posting.Value, identity.ForumDid);
            await applier.ApplyAsync(new CommitEvent(0, repo.Did, rev, commitTime, ops, 0), ct);
        }
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        var held = finalDataCid is null
            ? await RepoStates.ProgressAsync(session, repo, doneAfter, now, options.Value.Lease, ct)
            : await RepoStates.CompleteAsync(session, repo, rev, finalDataCid, doneAfter, now, ct);
        if (!held)
        {
            await transaction.RollbackAsync(ct);
            return (null, bulk);
        }
        await transaction.CommitAsync(ct);
        return (outcome, bulk);
    }

    /// <summary>phpBB's mappings and parked replies of <paramref name="did"/>, by AT-URI.</summary>
    private async Task<IReadOnlyDictionary<string, HeldRecord>> HeldRecordsAsync(string did, CancellationToken ct)
    {
        var held = new Dictionary<string, HeldRecord>(StringComparer.Ordinal);
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using (var mapped = new MySqlCommand($"""
            SELECT at_uri, COALESCE(at_cid, ''), sync_status FROM {tables.Posts} WHERE author_did = @did AND at_uri IS NOT NULL
            """, connection))
        {
            mapped.Parameters.AddWithValue("@did", did);
            await using var reader = await mapped.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var status = SyncStatusSql.Parse(reader.GetString(2));
                var cid = reader.GetString(1);
                held[reader.GetString(0)] = new HeldRecord(reader.GetString(0), cid, status == SyncStatus.Synced && cid.Length > 0, status == SyncStatus.Deleted);
            }
        }
        await using (var parked = new MySqlCommand($"SELECT at_uri, at_cid FROM {tables.ParkedPosts} WHERE author_did = @did", connection))
        {
            parked.Parameters.AddWithValue("@did", did);
            await using var reader = await parked.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                held.TryAdd(reader.GetString(0), new HeldRecord(reader.GetString(0), reader.GetString(1), Confirmed: true, Deleted: false));
            }
        }
        return held;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Importing the repository of {Did} (attempt {Attempt}, requested by {RequestedBy})")]
    private partial void LogStarted(string did, int attempt, string requestedBy);

    [LoggerMessage(Level = LogLevel.Information, Message = "Import of {Did}: {Done} of {Total} forum records applied")]
    private partial void LogProgress(string did, int done, int total);

    [LoggerMessage(Level = LogLevel.Information, Message = "Imported the repository of {Did} at rev {Rev}: {Records} records, {Creates} created, {Updates} updated, {Deletes} deleted, {Unchanged} unchanged, in {Seconds:0.0} s")]
    private partial void LogImported(string did, string rev, int records, int creates, int updates, int deletes, int unchanged, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Import of {Did} failed ({Reason}, attempt {Attempt}); retried after {RetryAt:u}")]
    private partial void LogFailed(string did, string reason, int attempt, DateTimeOffset retryAt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Import of {Did} failed ({Reason}) for the {Attempt}th time: given up until it is requested again (atsync backfill)")]
    private partial void LogGaveUp(string did, string reason, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Import of {Did} stopped: its lease was taken over by another importer; nothing more was written")]
    private partial void LogLeaseLost(string did);

    [LoggerMessage(Level = LogLevel.Information, Message = "Import of {Did} interrupted by shutdown; it starts again later")]
    private partial void LogInterrupted(string did);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Import of {Did}: MySQL error {ErrorCode}; retried later")]
    private partial void LogDatabaseError(string did, string errorCode);
}
