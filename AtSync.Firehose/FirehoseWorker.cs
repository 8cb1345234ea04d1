using AtSync.Core.Storage;

namespace AtSync.Firehose;

/// <summary>Runs the Firehose's streams once the schema is current; stops them (flushing their batches) on shutdown.</summary>
internal sealed partial class FirehoseWorker(FirehoseStreams streams, DatabaseReadiness readiness, ILogger<FirehoseWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await readiness.WaitAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        var runs = new List<Task> { streams.CreateRepoProcessor().RunAsync(stoppingToken) };
        if (streams.CreateLabelProcessor() is { } labels) runs.Add(labels.RunAsync(stoppingToken));
        try
        {
            await Task.WhenAll(runs).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        LogStopped();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Firehose streams stopped")]
    private partial void LogStopped();
}
