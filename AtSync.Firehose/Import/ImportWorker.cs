using AtSync.Core.Storage;
using Microsoft.Extensions.Options;

namespace AtSync.Firehose.Import;

/// <summary>
/// The Firehose's import worker: every <see cref="ImportOptions.PollInterval"/> it claims due repositories from
/// <c>atproto_repos</c> (desynchronized or resync requested, backoff passed; or importing with an expired lease) and
/// imports them, at most <see cref="ImportOptions.MaxConcurrentImports"/> at a time and one importer per DID (the
/// claim's lease keeps other Firehose processes off it).
/// </summary>
internal sealed partial class ImportWorker(
    RepoStates states, RepoImporter importer, DatabaseReadiness readiness, IOptions<ImportOptions> options, TimeProvider time,
    ILogger<ImportWorker> logger) : BackgroundService
{
    private readonly Dictionary<string, Task> _running = new(StringComparer.Ordinal);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (!settings.WorkerEnabled) return;
        try
        {
            await readiness.WaitAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        using var timer = new PeriodicTimer(settings.PollInterval, time);
        try
        {
            do
            {
                foreach (var did in _running.Where(r => r.Value.IsCompleted).Select(r => r.Key).ToList()) _running.Remove(did);
                var free = settings.MaxConcurrentImports - _running.Count;
                if (free <= 0) continue;
                IReadOnlyList<ClaimedRepo> claimed;
                try
                {
                    claimed = await states.ClaimAsync(free, time.GetUtcNow().ToUnixTimeSeconds(), settings.Lease, stoppingToken,
                        exclude: [.. _running.Keys]);
                }
                catch (MySqlConnector.MySqlException ex)
                {
                    LogClaimFailed(ex.ErrorCode.ToString());
                    continue;
                }
                foreach (var repo in claimed) _running[repo.Did] = Task.Run(() => RunOneAsync(repo, stoppingToken), CancellationToken.None);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        await Task.WhenAll(_running.Values);
    }

    private async Task RunOneAsync(ClaimedRepo repo, CancellationToken stoppingToken)
    {
        try
        {
            await importer.RunAsync(repo, progress: null, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is MySqlConnector.MySqlException or TimeoutException)
        {
            // Recording the outcome failed: the lease expires and the repository is claimed again.
            LogRunFailed(repo.Did, ex.GetType().Name);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Claiming repositories to import failed (MySQL error {ErrorCode}); retried at the next poll")]
    private partial void LogClaimFailed(string errorCode);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Import of {Did} could not record its outcome ({Error}); it is claimed again when its lease expires")]
    private partial void LogRunFailed(string did, string error);
}
