using AtSync.Core.Resilience;
using AtSync.Core.Storage;
using AtSync.QueueWorker.Queue;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace AtSync.QueueWorker;

/// <summary>
/// The worker loop: waits for the schema, then repeatedly recovers expired leases, processes a batch, and sleeps when
/// nothing was due; every <see cref="QueueWorkerOptions.HousekeepingInterval"/> it re-counts the queue for the gauges
/// and purges old dead letters. On shutdown it stops claiming, gives in-flight writes
/// <see cref="QueueWorkerOptions.ShutdownGrace"/>, then releases what is left.
/// </summary>
public sealed partial class QueueWorkerService(
    QueueProcessor processor,
    QueueStore store,
    DatabaseReadiness readiness,
    WorkerHeartbeat heartbeat,
    QueueMetrics metrics,
    IOptions<QueueWorkerOptions> options,
    TimeProvider time,
    ILogger<QueueWorkerService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await readiness.WaitAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        var o = options.Value;
        using var abort = new CancellationTokenSource();
        await using var _ = stoppingToken.Register(() => abort.CancelAfter(o.ShutdownGrace));
        var nextHousekeeping = DateTimeOffset.MinValue;
        var failures = new Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30));
        LogStarted(o.BatchSize, o.MaxConcurrentWrites);

        while (!stoppingToken.IsCancellationRequested)
        {
            heartbeat.Beat();
            try
            {
                var now = time.GetUtcNow();
                if (now >= nextHousekeeping)
                {
                    await HousekeepingAsync(now, stoppingToken);
                    nextHousekeeping = now + o.HousekeepingInterval;
                }
                await store.RecoverExpiredLeasesAsync(now, stoppingToken);
                var result = await processor.ProcessBatchAsync(abort.Token);
                failures.Reset();
                if (result.Claimed == 0)
                {
                    await Task.Delay(o.PollInterval, time, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            // Any database error keeps the loop alive (a schema or permission problem may be fixed while it waits).
            catch (Exception ex) when (ex is MySqlException or OperationCanceledException || MySqlErrors.IsTransient(ex))
            {
                var delay = failures.Next();
                LogLoopFailure(ex.GetType().Name, ex is MySqlException mysql ? mysql.ErrorCode.ToString() : "-", delay.TotalSeconds);
                try
                {
                    await Task.Delay(delay, time, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
        LogStopped();
    }

    private async Task HousekeepingAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var purged = await store.PurgeDeadLettersAsync(now - options.Value.DeadLetterRetention, cancellationToken);
        if (purged > 0) LogPurged(purged);
        metrics.SetDepth(await store.CountAsync(cancellationToken));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Queue worker started (batch {BatchSize}, {Concurrency} writes at once)")]
    private partial void LogStarted(int batchSize, int concurrency);

    [LoggerMessage(Level = LogLevel.Information, Message = "Queue worker stopped")]
    private partial void LogStopped();

    [LoggerMessage(Level = LogLevel.Information, Message = "Purged {Count} dead letters past their retention")]
    private partial void LogPurged(int count);

    // Exception messages are left out: MySqlConnector's can name hosts and users.
    [LoggerMessage(Level = LogLevel.Warning, Message = "Queue worker loop failed ({ExceptionType}, error {ErrorCode}); retrying in {DelaySeconds} s")]
    private partial void LogLoopFailure(string exceptionType, string errorCode, double delaySeconds);
}
