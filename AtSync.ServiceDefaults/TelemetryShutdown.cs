using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Flushes and shuts down the OpenTelemetry providers within <see cref="Budget"/> when the host stops. Left to their
/// disposal, each provider waits up to 5 s for its exporter; when the OTLP endpoint has already gone (Ctrl+C on the
/// AppHost, or <c>docker compose down</c>, stops the dashboard beside the services) and exports are retried
/// (<c>OTEL_DOTNET_EXPERIMENTAL_OTLP_RETRY</c>), that was 15 s per service: a stop measured at 0.2 s without an
/// endpoint took 15.2 s with a closed one. Registered by <see cref="Extensions.AddServiceDefaults"/> before the services'
/// own hosted services, so it stops after them and their last spans and logs are still sent.
/// </summary>
internal sealed class TelemetryShutdown(IServiceProvider services) : IHostedService
{
    public static readonly TimeSpan Budget = TimeSpan.FromSeconds(2);

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken)
    {
        var timeout = (int)Budget.TotalMilliseconds;
        // The three in parallel: the budget is the whole stop's, not each provider's. A second shutdown (at disposal)
        // returns at once.
        var shutdowns = new List<Task>();
        if (services.GetService<TracerProvider>() is { } tracing) shutdowns.Add(Task.Run(() => tracing.Shutdown(timeout), CancellationToken.None));
        if (services.GetService<MeterProvider>() is { } metrics) shutdowns.Add(Task.Run(() => metrics.Shutdown(timeout), CancellationToken.None));
        if (services.GetService<LoggerProvider>() is { } logs) shutdowns.Add(Task.Run(() => logs.Shutdown(timeout), CancellationToken.None));
        return Task.WhenAll(shutdowns);
    }
}
