using AtSync.Core.Settings;
using AtSync.Tests.Infrastructure;
using AtSync.Tests.Linking;

namespace AtSync.Tests.ServiceDefaults;

/// <summary>
/// A service whose OTLP endpoint has gone (the dashboard stopped first: Ctrl+C on the AppHost, <c>docker compose
/// down</c>) still stops promptly on SIGTERM: the final telemetry flush is bounded (TelemetryShutdown.cs, 2 s), where the
/// providers' own disposal waited 5 s each with retried exports (15 s measured).
/// </summary>
public sealed class TelemetryShutdownTests
{
    [Fact]
    public async Task A_service_whose_otlp_endpoint_is_gone_stops_within_seconds_on_sigterm()
    {
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync();
        await PhpbbSessionTables.CreateAsync(database);
        // A loopback port nothing listens on: every export is refused and retried.
        var closedPort = ServiceProcess.FreeLoopbackPort();
        var port = ServiceProcess.FreeLoopbackPort();
        await using var service = ServiceProcess.Start("AtSync.Linking", new Dictionary<string, string?>
        {
            [SettingNames.ConnectionString] = database.ConnectionString,
            [SettingNames.TablePrefix] = database.Prefix,
            [SettingNames.TokenEncryptionKeys] = ServiceSettings.NewTokenKeysJson(),
            [SettingNames.TokenEncryptionKeyVersion] = "v1",
            [SettingNames.PlcDirectoryUrl] = "http://127.0.0.1:1/",
            ["LINKING_PUBLIC_URL"] = $"http://127.0.0.1:{port}/atproto/",
            // What the AppHost and compose give every service.
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = $"http://127.0.0.1:{closedPort}",
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "grpc",
            ["OTEL_DOTNET_EXPERIMENTAL_OTLP_RETRY"] = "in_memory",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "1000",
            ["OTEL_BLRP_SCHEDULE_DELAY"] = "1000",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "1000",
        }, port);
        await service.WaitForHealthyAsync(TimeSpan.FromSeconds(60));
        // Something to export at the stop: requests (traces, metrics) and their logs.
        for (var i = 0; i < 5; i++) using (await service.GetAsync("/atproto/link")) { }

        service.Terminate();
        // 2 s of flush budget plus the host's own stop; the unbounded flush took 15 s.
        Assert.True(await service.WaitForExitAsync(TimeSpan.FromSeconds(10)), "the service did not stop within 10 s of SIGTERM:\n" + service.Output);
        Assert.Equal(0, service.ExitCode);
    }
}
