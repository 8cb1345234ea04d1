using System.Diagnostics.Metrics;

namespace AtSync.Firehose.Import;

/// <summary>The import's instruments, on the Firehose's meter (<see cref="FirehoseMetrics.MeterName"/>).</summary>
public sealed class ImportMetrics : IDisposable
{
    public const string ImportsName = "atsync.firehose.imports";
    public const string ImportRecordsName = "atsync.firehose.import_records";
    public const string ImportDurationName = "atsync.firehose.import_duration";

    /// <summary>Outcome tag values of <see cref="ImportsName"/> (a failure also carries its <c>reason</c>).</summary>
    public const string Imported = "imported";
    public const string Retry = "retry";
    public const string GaveUp = "gave_up";
    public const string LeaseLost = "lease_lost";

    private readonly Meter _meter;
    private readonly Counter<long> _imports;
    private readonly Counter<long> _records;
    private readonly Histogram<double> _duration;

    public ImportMetrics(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(FirehoseMetrics.MeterName);
        _imports = _meter.CreateCounter<long>(ImportsName, "{import}", "Repository imports from getRepo, by outcome and failure reason");
        _records = _meter.CreateCounter<long>(ImportRecordsName, "{record}", "Forum records an import applied to phpBB, by action (create, update, delete)");
        _duration = _meter.CreateHistogram<double>(ImportDurationName, "s", "From claiming a repository to its import's end");
    }

    public void Import(string outcome, string? reason, TimeSpan elapsed)
    {
        _imports.Add(1, new KeyValuePair<string, object?>("outcome", outcome), new KeyValuePair<string, object?>("reason", reason ?? ""));
        _duration.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("outcome", outcome));
    }

    public void Records(string action, long count)
    {
        if (count > 0) _records.Add(count, new KeyValuePair<string, object?>("action", action));
    }

    public void Dispose() => _meter.Dispose();
}
