using System.Threading.Channels;
using AtSync.Firehose.Events;
using AtSync.Firehose.Ingest;
using AtSync.Firehose.Storage;
using Microsoft.Extensions.Logging;

namespace AtSync.Firehose.Processing;

/// <summary>
/// One stream end to end: its source fills a bounded channel; this reads frames, decodes them, skips events at or
/// below the cursor, keeps those that concern the forum, and commits them in batches together with the stream's
/// cursor (one transaction each). A batch that fails on a transient database error is retried until it commits
/// (the channel fills, the socket read waits: nothing is dropped). On stop: reading stops, the current batch and its
/// cursor are flushed.
/// </summary>
public sealed partial class StreamProcessor(
    string service,
    IFrameSource source,
    Func<ReadOnlyMemory<byte>, StreamEvent> decode,
    ForumStore store,
    StreamState state,
    FirehoseOptions options,
    FirehoseMetrics metrics,
    TimeProvider time,
    ILogger logger)
{
    public static readonly TimeSpan FinalFlushBudget = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan RetryFirst = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan RetryMax = TimeSpan.FromSeconds(30);

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
        var stored = await LoadCursorAsync(stoppingToken).ConfigureAwait(false);
        if (stored is { } cursor)
        {
            Interlocked.Exchange(ref _processed, cursor);
            Committed = cursor;
            state.MarkCursorSaved(time.GetUtcNow());
        }
        metrics.TrackCursor(service, () => state.CursorSavedAt is { } saved ? (time.GetUtcNow() - saved).TotalSeconds : null);
        LogStarting(service, source.Kind, stored?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none (first run: live position)");

        var channel = FrameChannel.Create(options.ChannelCapacity);
        using var sourceStop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var producer = Task.Run(async () =>
        {
            try
            {
                await source.RunAsync(channel.Writer, () => Processed < 0 ? null : Processed, sourceStop.Token).ConfigureAwait(false);
                channel.Writer.TryComplete();
            }
            catch (OperationCanceledException) when (sourceStop.IsCancellationRequested)
            {
                channel.Writer.TryComplete();
            }
            catch (Exception ex)
            {
                LogSourceFailed(ex, service, source.Kind);
                state.ReportProblem($"{source.Kind} source failed ({ex.GetType().Name})");
                channel.Writer.TryComplete();
            }
        }, CancellationToken.None);

        var batch = new Batch();
        try
        {
            var reader = channel.Reader;
            while (await reader.WaitToReadAsync(stoppingToken).ConfigureAwait(false))
            {
                while (reader.TryRead(out var frame))
                {
                    using (frame)
                    {
                        Accept(frame, batch);
                    }
                    if (batch.Frames >= options.BatchSize || (batch.Frames > 0 && time.GetElapsedTime(batch.StartedTimestamp) >= options.BatchMaxDelay))
                    {
                        await FlushAsync(batch, stoppingToken).ConfigureAwait(false);
                    }
                }
                // The channel is empty: commit what we have rather than wait for more.
                await FlushAsync(batch, stoppingToken).ConfigureAwait(false);
            }
            LogSourceEnded(service, Processed);
            _drained.TrySetResult();
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            await sourceStop.CancelAsync().ConfigureAwait(false);
            await producer.ConfigureAwait(false);
            FrameChannel.Drain(channel.Reader);
            if (batch.Frames > 0)
            {
                using var budget = new CancellationTokenSource(FinalFlushBudget, time);
                try
                {
                    await FlushAsync(batch, budget.Token).ConfigureAwait(false);
                    LogFlushedOnStop(service, Committed ?? -1);
                }
                catch (OperationCanceledException)
                {
                    LogFinalFlushAbandoned(service, batch.Frames);
                }
            }
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
        if (seq <= Processed)
        {
            metrics.Skipped(Outcomes.AlreadyProcessed);
            return;
        }
        Interlocked.Exchange(ref _processed, seq);
        if (batch.Frames == 0) batch.StartedTimestamp = time.GetTimestamp();
        batch.Frames++;
        batch.Cursor = seq;
        batch.FrameTimestamps.Add(frame.ReceivedTimestamp);
        switch (decoded)
        {
            case CommitEvent commit:
                if (commit.OtherOps > 0) metrics.Skipped("not_forum", commit.OtherOps);
                metrics.Lag(time.GetUtcNow() - commit.Time);
                if (commit.ForumOps.Count > 0) batch.Events.Add(commit);
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
            case PassThroughEvent { Time: { } eventTime }:
                metrics.Lag(time.GetUtcNow() - eventTime);
                break;
        }
    }

    private async Task FlushAsync(Batch batch, CancellationToken cancellationToken)
    {
        if (batch.Frames == 0) return;
        var started = time.GetTimestamp();
        var prepared = await PrepareWithRetryAsync(batch.Events, cancellationToken).ConfigureAwait(false);
        var outcome = await CommitWithRetryAsync(prepared.Events, batch.Cursor, cancellationToken).ConfigureAwait(false);
        var now = time.GetUtcNow();
        // Commits set aside (e.g. bad signatures) are decisions: the committed cursor covers them, and they count once.
        Merge(outcome, prepared.SetAside);
        outcome.Record(metrics);
        metrics.BatchCommitted(time.GetElapsedTime(started));
        var end = time.GetTimestamp();
        foreach (var received in batch.FrameTimestamps)
        {
            metrics.FrameCommitted(time.GetElapsedTime(received, end));
        }
        state.MarkCursorSaved(now);
        Committed = batch.Cursor;
        batch.Clear();
    }

    /// <summary>Prepares a batch; while signing keys are unavailable (a directory outage) waits and tries again.</summary>
    private Task<PreparedBatch> PrepareWithRetryAsync(IReadOnlyList<StreamEvent> events, CancellationToken cancellationToken) =>
        RetryTransientAsync(
            ct => store.PrepareAsync(events, ct),
            ex => ex is SigningKeysUnavailableException,
            (ex, delayMs) => LogKeysUnavailable(service, ex.Message, delayMs),
            cancellationToken);

    /// <summary>
    /// Runs <paramref name="operation"/> until it succeeds, waiting 0.2 s doubling to 30 s after each failure that
    /// <paramref name="isTransient"/> accepts; other exceptions propagate.
    /// </summary>
    private async Task<T> RetryTransientAsync<T>(
        Func<CancellationToken, Task<T>> operation, Func<Exception, bool> isTransient, Action<Exception, double> logRetry, CancellationToken cancellationToken)
    {
        var delay = RetryFirst;
        while (true)
        {
            try
            {
                return await operation(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (isTransient(ex) && !cancellationToken.IsCancellationRequested)
            {
                logRetry(ex, delay.TotalMilliseconds);
                await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, RetryMax.Ticks));
            }
        }
    }

    private async Task<BatchOutcome> CommitWithRetryAsync(IReadOnlyList<StreamEvent> events, long batchCursor, CancellationToken cancellationToken)
    {
        try
        {
            return await RetryTransientAsync(
                ct => store.ApplyAsync(service, events, batchCursor, time.GetUtcNow().ToUnixTimeSeconds(), ct),
                ForumStore.IsTransient,
                (ex, delayMs) => LogRetry(service, Describe(ex), delayMs),
                cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException && !ForumStore.IsTransient(ex))
        {
            // A row the database refuses: apply the events one by one so only the offending one is set aside.
            LogBatchRejected(service, Describe(ex), events.Count);
            return await CommitOneByOneAsync(events, batchCursor, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<BatchOutcome> CommitOneByOneAsync(IReadOnlyList<StreamEvent> events, long batchCursor, CancellationToken cancellationToken)
    {
        var total = new BatchOutcome();
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        foreach (var streamEvent in events)
        {
            var cursor = streamEvent.Seq ?? batchCursor;
            try
            {
                Merge(total, await store.ApplyAsync(service, [streamEvent], cursor, now, cancellationToken).ConfigureAwait(false));
            }
            catch (Exception ex) when (ex is not OperationCanceledException && !ForumStore.IsTransient(ex))
            {
                LogEventRejected(ex, service, cursor, streamEvent.TypeName);
                total.Skip(Outcomes.WriteFailed);
                await store.ApplyAsync(service, [], cursor, now, cancellationToken).ConfigureAwait(false);
            }
        }
        Merge(total, await store.ApplyAsync(service, [], batchCursor, now, cancellationToken).ConfigureAwait(false));
        return total;
    }

    /// <summary>Exception type and MySQL error code: never the message (it can name hosts and users).</summary>
    private static string Describe(Exception exception) =>
        exception is MySqlConnector.MySqlException mysql ? $"{exception.GetType().Name} {mysql.ErrorCode} ({mysql.Number})" : exception.GetType().Name;

    private static void Merge(BatchOutcome into, BatchOutcome from)
    {
        foreach (var (k, v) in from.Applied) into.Applied[k] = into.Applied.GetValueOrDefault(k) + v;
        foreach (var (k, v) in from.Skipped) into.Skipped[k] = into.Skipped.GetValueOrDefault(k) + v;
        foreach (var (k, v) in from.Labels) into.Labels[k] = into.Labels.GetValueOrDefault(k) + v;
    }

    private Task<long?> LoadCursorAsync(CancellationToken cancellationToken) =>
        RetryTransientAsync(
            ct => store.LoadCursorAsync(service, ct),
            ForumStore.IsTransient,
            (ex, delayMs) => LogRetry(service, Describe(ex), delayMs),
            cancellationToken);

    private sealed class Batch
    {
        public List<StreamEvent> Events { get; } = [];
        public List<long> FrameTimestamps { get; } = [];
        public int Frames { get; set; }
        public long Cursor { get; set; }
        public long StartedTimestamp { get; set; }

        public void Clear()
        {
            Events.Clear();
            FrameTimestamps.Clear();
            Frames = 0;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Stream {Service} starting from {Source}; stored cursor {Cursor}")]
    private partial void LogStarting(string service, string source, string cursor);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stream {Service}: source ended; everything up to seq {Seq} is committed")]
    private partial void LogSourceEnded(string service, long seq);

    [LoggerMessage(Level = LogLevel.Error, Message = "Stream {Service}: the {Source} source failed")]
    private partial void LogSourceFailed(Exception exception, string service, string source);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stream {Service}: undecodable frame of {Length} bytes skipped: {Reason}")]
    private partial void LogDecodeFailed(string service, int length, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stream {Service}: info {Name}: {Text}")]
    private partial void LogInfo(string service, string name, string text);

    [LoggerMessage(Level = LogLevel.Error, Message = "Stream {Service}: error frame {Error}: {Text}")]
    private partial void LogStreamError(string service, string error, string text);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stream {Service}: database write failed ({ExceptionType}); retrying the batch in {DelayMs} ms")]
    private partial void LogRetry(string service, string exceptionType, double delayMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stream {Service}: {Reason}; holding the batch and retrying in {DelayMs} ms")]
    private partial void LogKeysUnavailable(string service, string reason, double delayMs);

    [LoggerMessage(Level = LogLevel.Error, Message = "Stream {Service}: the database rejected a batch ({ExceptionType}); applying its {Count} events one by one")]
    private partial void LogBatchRejected(string service, string exceptionType, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "Stream {Service}: event seq {Seq} ({Type}) could not be written and is skipped")]
    private partial void LogEventRejected(Exception exception, string service, long seq, string type);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stream {Service}: stopped; batch flushed, cursor {Cursor} saved")]
    private partial void LogFlushedOnStop(string service, long cursor);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stream {Service}: stopped before {Frames} frames could be committed; they will be read again from the cursor")]
    private partial void LogFinalFlushAbandoned(string service, int frames);
}
