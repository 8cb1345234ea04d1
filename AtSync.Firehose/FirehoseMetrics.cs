using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;

namespace AtSync.Firehose;

/// <summary>
/// The Firehose's instruments, on the meter <c>AtSync.Firehose</c> (exported by the service defaults).
/// One home for every instrument name and tag.
/// </summary>
public sealed class FirehoseMetrics : IDisposable
{
    public const string MeterName = "AtSync.Firehose";

    public const string EventsName = "atsync.firehose.events";
    public const string ForumOpsName = "atsync.firehose.forum_ops";
    public const string SkippedName = "atsync.firehose.skipped";
    public const string DecodeErrorsName = "atsync.firehose.decode_errors";
    public const string ReconnectsName = "atsync.firehose.reconnects";
    public const string LagName = "atsync.firehose.lag";
    public const string CursorStalenessName = "atsync.firehose.cursor_staleness";
    public const string BatchCommitName = "atsync.firehose.batch_commit_latency";
    public const string FrameToCommitName = "atsync.firehose.frame_to_commit_latency";
    public const string LabelsName = "atsync.firehose.labels";

    private readonly Meter _meter;
    private readonly Counter<long> _events;
    private readonly Counter<long> _forumOps;
    private readonly Counter<long> _skipped;
    private readonly Counter<long> _decodeErrors;
    private readonly Counter<long> _reconnects;
    private readonly Counter<long> _labels;
    private readonly Histogram<double> _lag;
    private readonly Histogram<double> _batchCommit;
    private readonly Histogram<double> _frameToCommit;
    private readonly Dictionary<string, Func<double?>> _staleness = new(StringComparer.Ordinal);
    private readonly Lock _stalenessLock = new();

    public FirehoseMetrics(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(MeterName);
        _events = _meter.CreateCounter<long>(EventsName, "{event}", "Event-stream messages received, by type");
        _forumOps = _meter.CreateCounter<long>(ForumOpsName, "{op}", "net.vza.forum.* operations applied to phpBB, by action");
        _skipped = _meter.CreateCounter<long>(SkippedName, "{item}", "Events or forum operations not applied, by reason");
        _decodeErrors = _meter.CreateCounter<long>(DecodeErrorsName, "{frame}", "Frames that could not be decoded");
        _reconnects = _meter.CreateCounter<long>(ReconnectsName, "{reconnect}", "Stream reconnect attempts, by stream");
        _labels = _meter.CreateCounter<long>(LabelsName, "{label}", "Labels received, by outcome");
        _lag = _meter.CreateHistogram<double>(LagName, "s", "Now minus the event's time, when it is processed");
        _batchCommit = _meter.CreateHistogram(BatchCommitName, "s", "Time to write and commit one batch", advice: LatencyBuckets.Advice);
        _frameToCommit = _meter.CreateHistogram(FrameToCommitName, "s", "From a frame's arrival to its batch's commit", advice: LatencyBuckets.Advice);
        _meter.CreateObservableGauge(CursorStalenessName, ObserveStaleness, "s", "Seconds since the stream's cursor was last saved");
    }

    public void Event(string type) => _events.Add(1, new KeyValuePair<string, object?>("type", type));

    public void ForumOpApplied(string action) => _forumOps.Add(1, new KeyValuePair<string, object?>("action", action));

    public void Skipped(string reason, long count = 1) => _skipped.Add(count, new KeyValuePair<string, object?>("reason", reason));

    public void DecodeError(string stream) => _decodeErrors.Add(1, new KeyValuePair<string, object?>("stream", stream));

    public void Reconnect(string stream) => _reconnects.Add(1, new KeyValuePair<string, object?>("stream", stream));

    public void Label(string outcome) => _labels.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    public void Lag(TimeSpan lag) => _lag.Record(Math.Max(0, lag.TotalSeconds));

    public void BatchCommitted(TimeSpan elapsed) => _batchCommit.Record(elapsed.TotalSeconds);

    public void FrameCommitted(TimeSpan elapsed) => _frameToCommit.Record(elapsed.TotalSeconds);

    /// <summary>Registers the staleness source of a stream's cursor (null while no cursor was ever saved).</summary>
    public void TrackCursor(string stream, Func<double?> secondsSinceSaved)
    {
        lock (_stalenessLock) _staleness[stream] = secondsSinceSaved;
    }

    private IEnumerable<Measurement<double>> ObserveStaleness()
    {
        List<KeyValuePair<string, Func<double?>>> sources;
        lock (_stalenessLock) sources = [.. _staleness];
        foreach (var (stream, source) in sources)
        {
            if (source() is { } seconds)
            {
                yield return new Measurement<double>(seconds, new KeyValuePair<string, object?>("stream", stream));
            }
        }
    }

    public void Dispose() => _meter.Dispose();
}
