using AtSync.Core.Storage;
using AtSync.Firehose.Apply;

namespace AtSync.Firehose;

/// <summary>Runs the Firehose's streams once the schema is current; stops them (flushing their batches) on shutdown.</summary>
internal sealed partial class FirehoseWorker(
    FirehoseStreams streams, HideLabelExpiry expiry, DatabaseReadiness readiness, TimeProvider time, ILogger<FirehoseWorker> logger) : BackgroundService
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
        var runs = new List<Task> { streams.CreateRepoProcessor().RunAsync(stoppingToken) };
        if (streams.CreateLabelProcessor() is { } labels)
        {
            runs.Add(labels.RunAsync(stoppingToken));
            runs.Add(SweepExpiredLabelsAsync(stoppingToken));
        }
        try
        {
            await Task.WhenAll(runs);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        LogStopped();
    }

    private async Task SweepExpiredLabelsAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(streams.Options.LabelExpirySweep, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    var changed = await expiry.ExpireAsync(time.GetUtcNow().ToUnixTimeSeconds(), stoppingToken);
                    if (changed > 0) LogExpired(changed);
                }
                catch (MySqlConnector.MySqlException ex)
                {
                    LogSweepFailed(ex.ErrorCode.ToString());
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Count} posts visible again: their !hide labels expired")]
    private partial void LogExpired(int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Label expiry sweep failed (MySQL error {ErrorCode}); retried at the next tick")]
    private partial void LogSweepFailed(string errorCode);

    [LoggerMessage(Level = LogLevel.Information, Message = "Firehose streams stopped")]
    private partial void LogStopped();
}
