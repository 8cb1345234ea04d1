using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AtSync.QueueWorker;

/// <summary>
/// "queue-backlog": Degraded — never Unhealthy, the worker is still working — while more than
/// <see cref="PendingThreshold"/> rows wait or more than <see cref="DeadLetterThreshold"/> rows are dead letters (the
/// deployment's alert thresholds, ops/prometheus/alerts.yml). Reads the depth the worker's housekeeping last counted
/// (<see cref="QueueMetrics.Depth"/>, every <c>QueueWorker__HousekeepingInterval</c>), so a probe costs no query.
/// <c>/health</c> still answers 200 when Degraded, so orchestrators keep the container; the body names the reason.
/// </summary>
public sealed class QueueBacklogHealthCheck(QueueMetrics metrics) : IHealthCheck
{
    public const string Name = "queue-backlog";
    public const long PendingThreshold = 100;
    public const long DeadLetterThreshold = 10;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var depth = metrics.Depth;
        var reasons = new List<string>(2);
        if (depth.Pending > PendingThreshold) reasons.Add($"{depth.Pending} rows pending (more than {PendingThreshold})");
        if (depth.DeadLetter > DeadLetterThreshold) reasons.Add($"{depth.DeadLetter} dead letters (more than {DeadLetterThreshold})");
        return Task.FromResult(reasons.Count == 0
            ? HealthCheckResult.Healthy($"{depth.Pending} pending, {depth.DeadLetter} dead letters")
            : HealthCheckResult.Degraded(string.Join("; ", reasons)));
    }
}
