using System.Diagnostics.Metrics;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Bucket boundaries of the services' latency histograms, which are in seconds (Prometheus convention: base units,
/// <c>*_seconds_bucket</c>). OpenTelemetry's default boundaries (0 … 10,000) are meant for milliseconds and would put
/// every write and commit in the first bucket; these span 1 ms to 30 s, as the Prometheus client libraries' defaults do.
/// </summary>
public static class LatencyBuckets
{
    public static readonly IReadOnlyList<double> Seconds = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

    public static InstrumentAdvice<double> Advice { get; } = new() { HistogramBucketBoundaries = Seconds };
}
