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
    public const string SourceFailuresName = "atsync.firehose.source_failures";
    public const string LagName = "atsync.firehose.lag";
    public const string CursorStalenessName = "atsync.firehose.cursor_staleness";
    public const string BatchCommitName = "atsync.firehose.batch_commit_latency";
    public const string FrameToCommitName = "atsync.firehose.frame_to_commit_latency";
    public const string LabelsName = "atsync.firehose.labels";
    public const string HandleChecksName = "atsync.firehose.handle_checks";
    public const string CommitsRejectedName = "atsync.firehose.commits_rejected";
    public const string CommitsHeldName = "atsync.firehose.commits_held";
    public const string CommitsReleasedName = "atsync.firehose.commits_released";
    public const string CommitsDroppedName = "atsync.firehose.commits_dropped";
    public const string ResyncsRequestedName = "atsync.firehose.resyncs_requested";

    private readonly Meter _meter;
    private readonly Counter<long> _events;
    private readonly Counter<long> _forumOps;
    private readonly Counter<long> _skipped;
    private readonly Counter<long> _decodeErrors;
    private readonly Counter<long> _reconnects;
    private readonly Counter<long> _sourceFailures;
    private readonly Counter<long> _labels;
    private readonly Counter<long> _handleChecks;
    private readonly Counter<long> _rejected;
    private readonly Counter<long> _held;
    private readonly Counter<long> _released;
    private readonly Counter<long> _dropped;
    private readonly Counter<long> _resyncs;
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
        _sourceFailures = _meter.CreateCounter<long>(SourceFailuresName, "{failure}", "Stream sources that failed (not a disconnect) and were started again, by stream");
        _labels = _meter.CreateCounter<long>(LabelsName, "{label}", "Labels received, by outcome");
        _handleChecks = _meter.CreateCounter<long>(HandleChecksName, "{check}", "Handles checked both ways, by result (verified, not_resolving_back, none, unavailable)");
        _rejected = _meter.CreateCounter<long>(CommitsRejectedName, "{commit}", "Forum commits refused by verification (repository marked desynchronized), by reason");
        _held = _meter.CreateCounter<long>(CommitsHeldName, "{commit}", "Forum commits held for their repository (parked key, behind an earlier one), by reason");
        _released = _meter.CreateCounter<long>(CommitsReleasedName, "{commit}", "Held commits taken through verification again");
        _dropped = _meter.CreateCounter<long>(CommitsDroppedName, "{commit}", "Held commits dropped after the retry bounds, by reason");
        _resyncs = _meter.CreateCounter<long>(ResyncsRequestedName, "{repo}", "Repository imports asked for by a verified #sync");
        _lag = _meter.CreateHistogram<double>(LagName, "s", "Now minus the event's time, when it is processed");
        _batchCommit = _meter.CreateHistogram(BatchCommitName, "s", "Time to write and commit one batch", advice: LatencyBuckets.Advice);
        _frameToCommit = _meter.CreateHistogram(FrameToCommitName, "s", "From a frame's arrival to its batch's commit", advice: LatencyBuckets.Advice);
        _meter.CreateObservableGauge(CursorStalenessName, ObserveStaleness, "s", "Seconds since the stream's cursor was last saved");
    }

    public void Event(string type) => _events.Add(1, new KeyValuePair<string, object?>("type", type));

    public void ForumOpApplied(string action) => _forumOps.Add(1, new KeyValuePair<string, object?>("action", action));

    public void Skipped(string reason, long count = 1) => _skipped.Add(count, new KeyValuePair<string, object?>("reason", reason));

    public void DecodeError(string stream) => _decodeErrors.Add(1, new KeyValuePair<string, object?>("stream", stream));

    public void SourceFailure(string stream) => _sourceFailures.Add(1, new KeyValuePair<string, object?>("stream", stream));

    public void Reconnect(string stream) => _reconnects.Add(1, new KeyValuePair<string, object?>("stream", stream));

    public void Label(string outcome) => _labels.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    public void HandleChecked(string result) => _handleChecks.Add(1, new KeyValuePair<string, object?>("result", result));
    public void CommitsRejected(string reason, long count = 1) => _rejected.Add(count, new KeyValuePair<string, object?>("reason", reason));

    public void CommitsHeld(string reason, long count = 1) => _held.Add(count, new KeyValuePair<string, object?>("reason", reason));

    public void CommitsReleased(long count) => _released.Add(count);

    public void CommitsDropped(string reason, long count) => _dropped.Add(count, new KeyValuePair<string, object?>("reason", reason));

    public void ResyncsRequested(long count) => _resyncs.Add(count);

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
