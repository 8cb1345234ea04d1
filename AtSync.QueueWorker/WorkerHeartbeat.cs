using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AtSync.QueueWorker;

/// <summary>The worker loop beats once per iteration; the liveness check fails when it has not beaten for too long.</summary>
public sealed class WorkerHeartbeat(TimeProvider time)
{
    private long _lastBeatTicks;

    public DateTimeOffset? LastBeat => Interlocked.Read(ref _lastBeatTicks) is var t && t == 0 ? null : new DateTimeOffset(t, TimeSpan.Zero);

    public void Beat() => Interlocked.Exchange(ref _lastBeatTicks, time.GetUtcNow().UtcTicks);
}

/// <summary>
/// "worker loop alive": healthy while the loop has beaten within <see cref="StallAfter"/> (a batch is bounded by the
/// HTTP timeout and the lease), or while it has not started yet (it waits for the schema, which has its own check).
/// </summary>
public sealed class WorkerLoopHealthCheck(WorkerHeartbeat heartbeat, TimeProvider time) : IHealthCheck
{
    public static readonly TimeSpan StallAfter = TimeSpan.FromMinutes(3);

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var last = heartbeat.LastBeat;
        if (last is null) return Task.FromResult(HealthCheckResult.Healthy("worker loop not started yet"));
        return Task.FromResult(time.GetUtcNow() - last.Value <= StallAfter
            ? HealthCheckResult.Healthy("worker loop alive")
            : new HealthCheckResult(context.Registration.FailureStatus, "worker loop stalled"));
    }
}
