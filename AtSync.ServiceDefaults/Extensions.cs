using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Common services for every AtSync service, in the shape of Aspire's service-defaults template:
/// OpenTelemetry, health checks, service discovery and HTTP resilience.
/// </summary>
public static class Extensions
{
    public const string HealthEndpointPath = "/health";
    public const string AlivenessEndpointPath = "/alive";
    public const string MetricsEndpointPath = "/metrics";
    public const string LiveTag = "live";

    /// <summary>Meter and activity-source names every AtSync service publishes under (AtSync.*).</summary>
    public const string AtSyncTelemetryPrefix = "AtSync.*";

    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.ConfigureOpenTelemetry();
        builder.AddStructuredConsoleLogs();
        builder.AddDefaultHealthChecks();
        builder.Services.AddServiceDiscovery();
        builder.Services.ConfigureHttpClientDefaults(http =>
        {
            http.AddStandardResilienceHandler();
            http.AddServiceDiscovery();
        });
        return builder;
    }

    /// <summary>IHttpClientFactory's log categories (their Trace-level request logs carry raw header values).</summary>
    public const string HttpClientLogCategory = "System.Net.Http.HttpClient";

    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        // IHttpClientFactory's Trace-level request logs blank header values in their text but keep the raw
        // Authorization header (users' bearer tokens) in their structured state, which the OpenTelemetry logger
        // exports. Those categories never log below Information, whatever LOG_LEVEL says.
        var configured = Enum.TryParse<LogLevel>(builder.Configuration["Logging:LogLevel:Default"], ignoreCase: true, out var level) ? level : LogLevel.Information;
        builder.Logging.AddFilter(HttpClientLogCategory, configured > LogLevel.Information ? configured : LogLevel.Information);

        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        ProcessMetrics.EnsureCreated();
        builder.Services.AddOpenTelemetry()
            // The service's name on every exported series (Prometheus target_info); OTEL_SERVICE_NAME, when set, wins.
            .ConfigureResource(resource =>
            {
                if (string.IsNullOrWhiteSpace(builder.Configuration["OTEL_SERVICE_NAME"])) resource.AddService(builder.Environment.ApplicationName);
            })
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter("MySqlConnector")
                .AddMeter(AtSyncTelemetryPrefix)
                // /metrics in Prometheus text format (MapDefaultEndpoints), beside OTLP when that is configured.
                .AddPrometheusExporter())
            .WithTracing(tracing => tracing
                .AddSource(builder.Environment.ApplicationName)
                .AddSource("MySqlConnector")
                .AddSource(AtSyncTelemetryPrefix)
                .AddAspNetCoreInstrumentation(options =>
                    // Health probes every few seconds are noise in traces.
                    options.Filter = context =>
                        !context.Request.Path.StartsWithSegments(HealthEndpointPath)
                        && !context.Request.Path.StartsWithSegments(AlivenessEndpointPath)
                        && !context.Request.Path.StartsWithSegments(MetricsEndpointPath))
                .AddHttpClientInstrumentation());

        builder.AddOpenTelemetryExporters();
        // A bounded final flush (TelemetryShutdown.cs): a gone OTLP endpoint must not hold the stop for 15 s.
        builder.Services.AddHostedService<TelemetryShutdown>();
        return builder;
    }

    private static TBuilder AddOpenTelemetryExporters<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        var useOtlpExporter = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        if (useOtlpExporter)
        {
            builder.Services.AddOpenTelemetry().UseOtlpExporter();
        }
        return builder;
    }

    public static TBuilder AddDefaultHealthChecks<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), [LiveTag]);
        return builder;
    }

    /// <summary>
    /// Maps <c>/health</c> (readiness: every check), <c>/alive</c> (liveness: checks tagged "live") and <c>/metrics</c>
    /// (Prometheus text format; the compose deployment publishes no service port, so only the compose network reaches it).
    /// Mapped in every environment: the compose deployment's health checks call them. The response body is
    /// the overall status and each check's name and status only: no exception text, no descriptions that could
    /// carry a connection string.
    /// </summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.MapHealthChecks(HealthEndpointPath, new HealthCheckOptions { ResponseWriter = HealthResponseWriter.WriteAsync });
        app.MapHealthChecks(AlivenessEndpointPath, new HealthCheckOptions
        {
            Predicate = r => r.Tags.Contains(LiveTag),
            ResponseWriter = HealthResponseWriter.WriteAsync,
        });
        app.MapPrometheusScrapingEndpoint(MetricsEndpointPath);
        return app;
    }
}
