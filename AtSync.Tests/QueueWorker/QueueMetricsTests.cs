using AtSync.QueueWorker;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;
using System.Diagnostics.Metrics;

namespace AtSync.Tests.QueueWorker;

public sealed class QueueMetricsTests
{
    [Fact]
    public async Task Processed_failed_latency_refresh_counters_and_depth_gauges_report_what_happened()
    {
        await using var h = await QueueHarness.CreateAsync(jitter: () => 0.5);
        var meterFactory = h.Get<IMeterFactory>();
        using var processed = new MetricCollector<long>(meterFactory, QueueMetrics.MeterName, "atsync.queue.processed");
        using var failed = new MetricCollector<long>(meterFactory, QueueMetrics.MeterName, "atsync.queue.failed");
        using var latency = new MetricCollector<double>(meterFactory, QueueMetrics.MeterName, "atsync.queue.write.duration");
        using var refreshes = new MetricCollector<long>(meterFactory, QueueMetrics.MeterName, "atsync.queue.token_refreshes");
        using var pending = new MetricCollector<long>(meterFactory, QueueMetrics.MeterName, "atsync.queue.pending");
        using var dead = new MetricCollector<long>(meterFactory, QueueMetrics.MeterName, "atsync.queue.dead_letter");

        var user = await h.LinkUserAsync(accessLifetime: TimeSpan.FromMinutes(1));
        await h.PostTopicAsync(user.UserId, "A", "<t>a</t>");
        await h.PostTopicAsync(user.UserId, "B", "<t>b</t>");
        h.Pds.InjectFault(new PdsFault.Error(500, "InternalServerError"), "com.atproto.repo.createRecord");
        h.Pds.InjectFault(new PdsFault.Error(400, "InvalidRecord", "bad"), "com.atproto.repo.createRecord");
        h.Get<QueueMetrics>().SetDepth(await h.Store.CountAsync(CancellationToken.None));
        pending.RecordObservableInstruments();
        Assert.Equal(2, pending.LastMeasurement!.Value);

        await h.RunBatchAsync();
        h.Time.Advance(TimeSpan.FromSeconds(15));
        await h.RunBatchAsync();

        Assert.Equal(1, processed.GetMeasurementSnapshot().Sum(m => m.Value));
        Assert.Equal("written", processed.GetMeasurementSnapshot().Single().Tags["result"]);
        var reasons = failed.GetMeasurementSnapshot().Select(m => (string)m.Tags["reason"]!).Order().ToList();
        Assert.Equal(["rejected", "server_error"], reasons);
        Assert.Equal(3, latency.GetMeasurementSnapshot().Count);
        Assert.Equal("ok", Assert.Single(refreshes.GetMeasurementSnapshot()).Tags["result"]); // 1-minute token: refreshed ahead

        h.Get<QueueMetrics>().SetDepth(await h.Store.CountAsync(CancellationToken.None));
        dead.RecordObservableInstruments();
        pending.RecordObservableInstruments();
        Assert.Equal(1, dead.LastMeasurement!.Value);
        Assert.Equal(0, pending.LastMeasurement!.Value);
    }

    [Fact]
    public async Task Worker_loop_health_turns_unhealthy_when_the_loop_stops_beating()
    {
        var time = new FakeTimeProvider();
        var heartbeat = new WorkerHeartbeat(time);
        var check = new WorkerLoopHealthCheck(heartbeat, time);
        var context = new HealthCheckContext
        {
            Registration = new HealthCheckRegistration("worker-loop", check, HealthStatus.Unhealthy, ["live"]),
        };
        Assert.Equal(HealthStatus.Healthy, (await check.CheckHealthAsync(context)).Status); // not started yet
        heartbeat.Beat();
        time.Advance(WorkerLoopHealthCheck.StallAfter);
        Assert.Equal(HealthStatus.Healthy, (await check.CheckHealthAsync(context)).Status);
        time.Advance(TimeSpan.FromSeconds(1));
        var stalled = await check.CheckHealthAsync(context);
        Assert.Equal(HealthStatus.Unhealthy, stalled.Status);
        Assert.Equal("worker loop stalled", stalled.Description);
        heartbeat.Beat();
        Assert.Equal(HealthStatus.Healthy, (await check.CheckHealthAsync(context)).Status);
    }
}
