using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// <c>process_start_time_seconds</c> (unix seconds), the Prometheus client libraries' standard series that the
/// runtime instrumentation does not give: <c>changes(process_start_time_seconds[1h])</c> counts restarts of a service
/// from its own scrape (the dashboard's restarts panel; the restart alert uses the container exporter, which also sees
/// MySQL and phpBB).
/// </summary>
public static class ProcessMetrics
{
    public const string MeterName = "AtSync.Process";

    private static readonly Lazy<Meter> Instance = new(() =>
    {
        var meter = new Meter(MeterName);
        var started = new DateTimeOffset(Process.GetCurrentProcess().StartTime.ToUniversalTime()).ToUnixTimeMilliseconds() / 1000.0;
        meter.CreateObservableGauge("process.start_time", () => started, "s", "Start time of the process since the unix epoch");
        return meter;
    });

    /// <summary>Creates the meter once per process (exported through the AtSync.* meter subscription).</summary>
    public static void EnsureCreated() => _ = Instance.Value;
}
