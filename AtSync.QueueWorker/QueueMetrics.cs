using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;
using AtSync.Core.Forum;
using AtSync.QueueWorker.Queue;

namespace AtSync.QueueWorker;

/// <summary>
/// The worker's instruments on the Meter <c>AtSync.QueueWorker</c>: queue depth gauges (the alert thresholds are
/// 100 pending and 10 dead letters), rows processed and failed by reason, PDS write latency, token refreshes.
/// </summary>
public sealed class QueueMetrics
{
    public const string MeterName = "AtSync.QueueWorker";

    private readonly Counter<long> _processed;
    private readonly Counter<long> _failed;
    private readonly Histogram<double> _writeDuration;
    private readonly Counter<long> _refreshes;
    private QueueStore.Depth _depth = new(0, 0, 0);

    public QueueMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        meter.CreateObservableGauge("atsync.queue.pending", () => Volatile.Read(ref _depth).Pending, "{row}", "Queue rows waiting to be written");
        meter.CreateObservableGauge("atsync.queue.processing", () => Volatile.Read(ref _depth).Processing, "{row}", "Queue rows claimed by a worker");
        meter.CreateObservableGauge("atsync.queue.dead_letter", () => Volatile.Read(ref _depth).DeadLetter, "{row}", "Queue rows given up on");
        _processed = meter.CreateCounter<long>("atsync.queue.processed", "{row}", "Queue rows finished (written or nothing to write)");
        _failed = meter.CreateCounter<long>("atsync.queue.failed", "{row}", "Queue row attempts that failed, by reason");
        _writeDuration = meter.CreateHistogram("atsync.queue.write.duration", "s", "Duration of PDS writes", advice: LatencyBuckets.Advice);
        _refreshes = meter.CreateCounter<long>("atsync.queue.token_refreshes", "{refresh}", "PDS session refreshes, by result");
    }

    public QueueStore.Depth Depth => Volatile.Read(ref _depth);

    public void SetDepth(QueueStore.Depth depth) => Volatile.Write(ref _depth, depth);

    public void Processed(QueueOperation operation, string result) =>
        _processed.Add(1, new KeyValuePair<string, object?>("operation", operation.ToSql()), new KeyValuePair<string, object?>("result", result));

    public void Failed(string reason) => _failed.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void WriteDuration(QueueOperation operation, TimeSpan elapsed, bool success) =>
        _writeDuration.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("operation", operation.ToSql()),
            new KeyValuePair<string, object?>("success", success));

    public void TokenRefreshed(string result) => _refreshes.Add(1, new KeyValuePair<string, object?>("result", result));
}
