using System.Threading.Channels;
using AtSync.Core.Resilience;
using AtSync.Core.Storage;
using AtSync.Firehose.Apply;
using AtSync.Firehose.Events;
using AtSync.Firehose.Ingest;
using AtSync.Firehose.Verify;
using Microsoft.Extensions.Logging;

namespace AtSync.Firehose.Processing;

/// <summary>
/// One stream end to end, in one direction: ingest (its source fills a bounded channel) → decode (skipping events at
/// or below the cursor, keeping those that concern the forum) → verify (<see cref="BatchVerifier"/>: repository states,
/// signature and MST verdicts, authors' handles, into a <see cref="PreparedBatch"/>; an author whose key cannot be had
/// within the deadline is parked with its commit held, Repos/, so nobody else waits) → apply (<see cref="BatchWriter"/>:
/// the batch, the repository changes and the stream's cursor in one transaction). A batch that fails on a transient
/// database error is retried until it commits (the channel fills, the socket read waits: nothing is dropped). On stop:
/// reading stops at the next frame, the current batch and its cursor are flushed. A stream whose sequence numbers are
/// only roughly ordered (Jetstream's <c>time_us</c>: <paramref name="strictOrder"/> false) skips nothing by cursor: its
/// cursor is the highest value seen, and replays are no-ops by the record revisions (<c>Apply/Mappings/RecordRevisions.cs</c>).
/// </summary>
public sealed partial class StreamProcessor(
    string service,
    IFrameSource source,
    Func<ReadOnlyMemory<byte>, StreamEvent> decode,
    IBatchVerifier verifier,
    BatchWriter writer,
    StreamState state,
    FirehoseOptions options,
    FirehoseMetrics metrics,
    TimeProvider time,
    ILogger logger,
    bool strictOrder = true)
{
    public static readonly TimeSpan FinalFlushBudget = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan RetryFirst = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan RetryMax = TimeSpan.FromSeconds(30);

    /// <summary>Database and directory retries of this stream: 0.2 s doubling to 30 s.</summary>
    private static Backoff RetryBackoff() => new(RetryFirst, RetryMax);

    private long _processed = -1;

    public string Service => service;

    /// <summary>The highest seq accepted so far (committed or in the open batch); -1 before any.</summary>
    public long Processed => Interlocked.Read(ref _processed);

    /// <summary>The cursor of the last commit; null before the first.</summary>
    public long? Committed { get; private set; }

    /// <summary>Completes when the source has ended (a capture file's end) and everything read was committed.</summary>
    public Task Drained => _drained.Task;

    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async Task RunAsync(CancellationToken stoppingToken)
    {
        var stored = await LoadCursorAsync(stoppingToken);
        if (stored is { } cursor)
        {
            Interlocked.Exchange(ref _processed, cursor);
            Committed = cursor;
            state.MarkCursorSaved(time.GetUtcNow());
        }
        metrics.TrackCursor(service, () => state.CursorSavedAt is { } saved ? (time.GetUtcNow() - saved).TotalSeconds : null);
        LogStarting(service, source.Kind, stored?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none (first run: live position)");

        var channel = FrameChannel.Create(options.ChannelCapacity, options.ChannelMaxBytes);
        using var sourceStop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var producer = Task.Run(() => ProduceAsync(channel, sourceStop.Token), CancellationToken.None);

        var batch = new Batch();
        try
        {
            var reader = channel.Reader;
            while (await reader.WaitToReadAsync(stoppingToken))
            {
                // On stop, no more buffered frames are taken: they are read again from the saved cursor.
                while (!stoppingToken.IsCancellationRequested && reader.TryRead(out var frame))
                {
                    using (frame)
                    {
                        Accept(frame, batch);
                    }
                    if (batch.Frames >= options.BatchSize || batch.Bytes >= options.BatchMaxBytes
                        || (batch.Frames > 0 && time.GetElapsedTime(batch.StartedTimestamp) >= options.BatchMaxDelay))
                    {
                        await FlushAsync(batch, stoppingToken);
                    }
                }
                stoppingToken.ThrowIfCancellationRequested();
                // The channel is empty: commit what we have rather than wait for more.
                await FlushAsync(batch, stoppingToken);
            }
            LogSourceEnded(service, Processed);
            _drained.TrySetResult();
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            await sourceStop.CancelAsync();
            await producer;
            FrameChannel.Drain(channel.Reader);
            if (batch.Frames > 0)
            {
                using var budget = new CancellationTokenSource(FinalFlushBudget, time);
                try
                {
                    await FlushAsync(batch, budget.Token);
                    LogFlushedOnStop(service, Committed ?? -1);
                }
                catch (OperationCanceledException)
                {
                    LogFinalFlushAbandoned(service, batch.Frames);
                }
            }
        }
    }

    /// <summary>
    /// Runs the source until it ends or the stream stops. A source that fails (a bug, or memory exhausted) is started
    /// again after a backoff, from the cursor of what was accepted: the stream never ends silently while the service
    /// looks alive. Meanwhile the stream reports the failure (health: disconnected).
    /// </summary>
    private async Task ProduceAsync(FrameChannel channel, CancellationToken ct)
    {
        var backoff = new Backoff(options.ReconnectInitialDelay, options.ReconnectMaxDelay, jitter: 0.5);
        try
        {
            while (true)
            {
                try
                {
                    await source.RunAsync(channel.Writer, () => Processed < 0 ? null : Processed, ct);
                    return;
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    return;
                }
                catch (ChannelClosedException)
                {
                    return;
                }
                catch (Exception ex)
                {
                    var problem = $"{source.Kind} source failed ({ex.GetType().Name})";
                    var delay = backoff.Next();
                    LogSourceFailed(ex, service, source.Kind, delay.TotalSeconds);
                    metrics.SourceFailure(service);
                    // Health: a live stream shows it as disconnected until the source connects again; a replay keeps it.
                    if (state.IsReplay) state.ReportProblem(problem);
                    else state.MarkDisconnected(problem);
                    await Task.Delay(delay, time, ct);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        finally
        {
            channel.Writer.TryComplete();
        }
    }

    private void Accept(ReceivedFrame frame, Batch batch)
    {
        StreamEvent decoded;
        try
        {
            decoded = decode(frame.Bytes);
        }
        catch (StreamDecodeException ex)
        {
            metrics.DecodeError(service);
            LogDecodeFailed(service, frame.Length, ex.Message);
            return;
        }
        metrics.Event(decoded.TypeName);
        switch (decoded)
        {
            case InfoEvent info:
                LogInfo(service, info.Name, info.Message ?? "");
                return;
            case ErrorEvent error:
                LogStreamError(service, error.Error, error.Message ?? "");
                state.ReportProblem($"stream error {error.Error}");
                return;
        }
        if (decoded.Seq is not { } seq)
        {
            return;
        }
        if (seq <= Processed && strictOrder)
        {
            metrics.Skipped(Outcomes.AlreadyProcessed);
            return;
        }
        if (seq > Processed) Interlocked.Exchange(ref _processed, seq);
        if (batch.Frames == 0)
        {
            batch.StartedTimestamp = time.GetTimestamp();
            state.MarkWaiting(time.GetUtcNow());
        }
        batch.Frames++;
        batch.Cursor = Math.Max(batch.Cursor, Processed);
        batch.FrameTimestamps.Add(frame.ReceivedTimestamp);
        switch (decoded)
        {
            case CommitEvent commit:
                if (commit.OtherOps > 0) metrics.Skipped("not_forum", commit.OtherOps);
                metrics.Lag(time.GetUtcNow() - commit.Time);
                if (commit.ForumOps.Count > 0)
                {
                    batch.Events.Add(commit);
                    batch.Bytes += frame.Length;
                }
                break;
            case IdentityEvent identity:
                metrics.Lag(time.GetUtcNow() - identity.Time);
                batch.Events.Add(identity);
                break;
            case AccountEvent account:
                metrics.Lag(time.GetUtcNow() - account.Time);
                batch.Events.Add(account);
                break;
            case LabelsEvent labels:
                batch.Events.Add(labels);
                break;
            case RepoSyncEvent sync:
                // To the verify stage: a signed #sync newer than the stored rev asks for a resync (RepoGate).
                metrics.Lag(time.GetUtcNow() - sync.Time);
                batch.Events.Add(sync);
                break;
            case PassThroughEvent { Time: { } eventTime }:
                metrics.Lag(time.GetUtcNow() - eventTime);
                break;
        }
    }

    private async Task FlushAsync(Batch batch, CancellationToken cancellationToken)
    {
        if (batch.Frames == 0) return;
        var started = time.GetTimestamp();
        var prepared = await VerifyAsync(batch.Events, cancellationToken);
        var outcome = await ApplyAsync(prepared, batch.Cursor, cancellationToken);
        var now = time.GetUtcNow();
        // Commits set aside (e.g. bad signatures) are decisions: the committed cursor covers them, and they count once.
        outcome.Add(prepared.SetAside);
        outcome.Record(metrics);
        prepared.Repos.Record(metrics);
        metrics.BatchCommitted(time.GetElapsedTime(started));
        var end = time.GetTimestamp();
        foreach (var received in batch.FrameTimestamps)
        {
            metrics.FrameCommitted(time.GetElapsedTime(received, end));
        }
        state.MarkCursorSaved(now);
        state.ClearWaiting();
        Committed = batch.Cursor;
        batch.Clear();
    }

    /// <summary>The verify stage (retried on transient database errors, and while the labeler's key is unavailable).</summary>
    private Task<PreparedBatch> VerifyAsync(IReadOnlyList<StreamEvent> events, CancellationToken cancellationToken) =>
        TransientRetry.RunAsync(
            ct => verifier.PrepareAsync(service, events, ct),
            ex => MySqlErrors.IsTransient(ex) || ex is SigningKeysUnavailableException, RetryBackoff(), time, LogDatabaseRetry, cancellationToken);

    /// <summary>The apply stage, retried on transient database errors.</summary>
    private async Task<BatchOutcome> ApplyAsync(PreparedBatch batch, long batchCursor, CancellationToken cancellationToken)
    {
        try
        {
            return await TransientRetry.RunAsync(
                ct => writer.ApplyAsync(service, batch.Events, batch.Handles, batchCursor, time.GetUtcNow().ToUnixTimeSeconds(), ct, batch.Repos),
                MySqlErrors.IsTransient, RetryBackoff(), time, LogDatabaseRetry, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException && !MySqlErrors.IsTransient(ex))
        {
            // A row the database refuses: apply the events one by one so only the offending one is set aside.
            LogBatchRejected(service, MySqlErrors.Describe(ex), batch.Events.Count);
            return await ApplyOneByOneAsync(batch, batchCursor, cancellationToken);
        }
    }

    private async Task<BatchOutcome> ApplyOneByOneAsync(PreparedBatch batch, long batchCursor, CancellationToken cancellationToken)
    {
        var total = new BatchOutcome();
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        foreach (var streamEvent in batch.Events)
        {
            var cursor = streamEvent.Seq ?? batchCursor;
            try
            {
                total.Add(await writer.ApplyAsync(service, [streamEvent], batch.Handles, cursor, now, cancellationToken));
            }
            catch (Exception ex) when (ex is not OperationCanceledException && !MySqlErrors.IsTransient(ex))
            {
                LogEventRejected(ex, service, cursor, streamEvent.TypeName);
                total.Skip(Outcomes.WriteFailed);
                await writer.ApplyAsync(service, [], batch.Handles, cursor, now, cancellationToken);
            }
        }
        total.Add(await writer.ApplyAsync(service, [], batch.Handles, batchCursor, now, cancellationToken, batch.Repos));
        return total;
    }

    private Task<long?> LoadCursorAsync(CancellationToken cancellationToken) =>
        TransientRetry.RunAsync(ct => writer.LoadCursorAsync(service, ct), MySqlErrors.IsTransient, RetryBackoff(), time, LogDatabaseRetry, cancellationToken);

    private void LogDatabaseRetry(Exception exception, TimeSpan delay) => LogRetry(service, MySqlErrors.Describe(exception), delay.TotalMilliseconds);

    private sealed class Batch
    {
        public List<StreamEvent> Events { get; } = [];
        public List<long> FrameTimestamps { get; } = [];
        public int Frames { get; set; }

        /// <summary>Frame bytes of the events kept (what the decoded events hold on to until the commit).</summary>
        public long Bytes { get; set; }

        public long Cursor { get; set; }
        public long StartedTimestamp { get; set; }

        public void Clear()
        {
            Events.Clear();
            FrameTimestamps.Clear();
            Frames = 0;
            Bytes = 0;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Stream {Service} starting from {Source}; stored cursor {Cursor}")]
    private partial void LogStarting(string service, string source, string cursor);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stream {Service}: source ended; everything up to seq {Seq} is committed")]
    private partial void LogSourceEnded(string service, long seq);

    [LoggerMessage(Level = LogLevel.Error, Message = "Stream {Service}: the {Source} source failed; started again in {DelaySeconds:0.#} s from the last accepted event")]
    private partial void LogSourceFailed(Exception exception, string service, string source, double delaySeconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stream {Service}: undecodable frame of {Length} bytes skipped: {Reason}")]
    private partial void LogDecodeFailed(string service, int length, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stream {Service}: info {Name}: {Text}")]
    private partial void LogInfo(string service, string name, string text);

    [LoggerMessage(Level = LogLevel.Error, Message = "Stream {Service}: error frame {Error}: {Text}")]
    private partial void LogStreamError(string service, string error, string text);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stream {Service}: database write failed ({ExceptionType}); retrying the batch in {DelayMs} ms")]
    private partial void LogRetry(string service, string exceptionType, double delayMs);

    [LoggerMessage(Level = LogLevel.Error, Message = "Stream {Service}: the database rejected a batch ({ExceptionType}); applying its {Count} events one by one")]
    private partial void LogBatchRejected(string service, string exceptionType, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "Stream {Service}: event seq {Seq} ({Type}) could not be written and is skipped")]
    private partial void LogEventRejected(Exception exception, string service, long seq, string type);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stream {Service}: stopped; batch flushed, cursor {Cursor} saved")]
    private partial void LogFlushedOnStop(string service, long cursor);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stream {Service}: stopped before {Frames} frames could be committed; they will be read again from the cursor")]
    private partial void LogFinalFlushAbandoned(string service, int frames);
}
