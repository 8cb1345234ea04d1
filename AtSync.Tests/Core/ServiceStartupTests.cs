using System.Net;
using System.Text.Json;
using AtSync.Core.Settings;
using AtSync.Core.Storage;
using AtSync.Tests.Infrastructure;

namespace AtSync.Tests.Core;

/// <summary>The two services as real processes: settings errors, start-up against a fresh database, health.</summary>
public sealed class ServiceStartupTests
{
    public static TheoryData<string, string, string?, string> InvalidSettings => new()
    {
        { "AtSync.Firehose", SettingNames.ConnectionString, null, "ConnectionStrings__phpbb is missing" },
        { "AtSync.Firehose", SettingNames.ForumDid, "did:nope", "FORUM_DID is not a DID" },
        { "AtSync.Firehose", SettingNames.RelayUrl, "https://relay.example.com", "RELAY_URL is not an absolute ws or wss URL" },
        { "AtSync.QueueWorker", SettingNames.TokenEncryptionKeys, "SECRET-not-json", "TOKEN_ENCRYPTION_KEYS is not JSON" },
        { "AtSync.QueueWorker", SettingNames.TokenEncryptionKeys, "{\"v1\":\"U0VDUkVU\"}", "TOKEN_ENCRYPTION_KEYS key 'v1' is not base64 of 32 bytes" },
        { "AtSync.QueueWorker", SettingNames.ForumAppPassword, null, "FORUM_APP_PASSWORD is missing" },
        { "AtSync.QueueWorker", SettingNames.ConnectionString, "Server=db;Password=SECRET-pw;Colour=blue", "ConnectionStrings__phpbb is not a valid MySQL connection string" },
    };

    [Theory]
    [MemberData(nameof(InvalidSettings))]
    public async Task An_invalid_setting_ends_the_process_with_one_line_and_a_non_zero_exit(string project, string setting, string? value, string expected)
    {
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync(withPhpbbSchema: false);
        var settings = ServiceSettings.For(database, ServiceSettings.NewTokenKeysJson());
        settings[setting] = value;

        await using var service = ServiceProcess.Start(project, settings);

        Assert.True(await service.WaitForExitAsync(TimeSpan.FromSeconds(30)), $"{project} did not exit:\n{service.Output}");
        Assert.Equal(ServiceRunner.InvalidSettingsExitCode, service.ExitCode);
        var line = Assert.Single(service.OutputLines);
        Assert.Equal(line, Assert.Single(service.ErrorLines));
        Assert.StartsWith($"{project} cannot start: {expected}", line);
        Assert.EndsWith(".", line);
        if (!string.IsNullOrEmpty(value)) Assert.DoesNotContain(value, line);
    }

    [Fact]
    public async Task Both_services_starting_at_once_on_a_fresh_database_apply_the_schema_once()
    {
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync();
        var settings = ServiceSettings.For(database, ServiceSettings.NewTokenKeysJson());

        await using var firehose = ServiceProcess.Start("AtSync.Firehose", settings);
        await using var worker = ServiceProcess.Start("AtSync.QueueWorker", settings);

        foreach (var service in new[] { firehose, worker })
        {
            await WaitForCheckAsync(service, DatabaseRegistration.SchemaHealthCheckName, "Healthy", TimeSpan.FromSeconds(60));
            await service.WaitForStatusAsync("/alive", HttpStatusCode.OK, TimeSpan.FromSeconds(10));
        }
        Assert.Equal(SchemaMigrations.All.Count, await database.ScalarAsync<long>($"SELECT COUNT(*) FROM {database.Tables.SchemaMigrations}"));
        Assert.Equal(SchemaMigrations.All.Count, await database.ScalarAsync<long>($"SELECT COUNT(DISTINCT version) FROM {database.Tables.SchemaMigrations}"));
    }

    [Fact]
    public async Task Health_turns_unhealthy_while_the_database_is_down_and_recovers_while_alive_stays_up()
    {
        await using var server = await MariaDbServer.StartDedicatedAsync();
        await using var database = await server.CreateDatabaseAsync();
        var settings = ServiceSettings.For(database, ServiceSettings.NewTokenKeysJson());
        await using var worker = ServiceProcess.Start("AtSync.QueueWorker", settings);
        await WaitForCheckAsync(worker, MySqlDataSourceName, "Healthy", TimeSpan.FromSeconds(60));
        await WaitForCheckAsync(worker, DatabaseRegistration.SchemaHealthCheckName, "Healthy", TimeSpan.FromSeconds(30));

        await server.StopAsync();

        await worker.WaitForStatusAsync("/health", HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(30));
        var body = await CheckBodyAsync(worker);
        Assert.Equal("Unhealthy", body.GetProperty("checks").GetProperty(MySqlDataSourceName).GetProperty("status").GetString());
        await worker.WaitForStatusAsync("/alive", HttpStatusCode.OK, TimeSpan.FromSeconds(5));

        await server.StartAsync();

        await WaitForCheckAsync(worker, MySqlDataSourceName, "Healthy", TimeSpan.FromSeconds(60));
        await worker.WaitForStatusAsync("/alive", HttpStatusCode.OK, TimeSpan.FromSeconds(5));

        // Nothing the service printed or served names the database password or the token secrets.
        Assert.DoesNotContain(server.Password!, worker.Output);
        Assert.DoesNotContain(ServiceSettings.ForumAppPassword, worker.Output);
        Assert.DoesNotContain(server.Password!, (await CheckBodyAsync(worker)).GetRawText());
        Assert.False(worker.HasExited);
    }

    [Fact]
    public async Task Sigterm_stops_a_service_gracefully()
    {
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync();
        await using var worker = ServiceProcess.Start("AtSync.QueueWorker", ServiceSettings.For(database, ServiceSettings.NewTokenKeysJson()));
        await WaitForCheckAsync(worker, DatabaseRegistration.SchemaHealthCheckName, "Healthy", TimeSpan.FromSeconds(60));

        worker.Terminate();

        Assert.True(await worker.WaitForExitAsync(TimeSpan.FromSeconds(30)), "no exit within 30 s of SIGTERM");
        Assert.Equal(0, worker.ExitCode);
    }

    private const string MySqlDataSourceName = Microsoft.Extensions.Hosting.MySqlDataSourceExtensions.HealthCheckName;

    private static async Task<JsonElement> CheckBodyAsync(ServiceProcess service)
    {
        using var response = await service.GetAsync("/health");
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    /// <summary>Waits until <c>/health</c> reports the named check with the given status (whatever the other checks say).</summary>
    internal static async Task WaitForCheckAsync(ServiceProcess service, string check, string status, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        string last = "no answer";
        while (DateTime.UtcNow < deadline)
        {
            if (service.HasExited) throw new InvalidOperationException($"The service exited with {service.ExitCode}:\n{service.Output}");
            try
            {
                var body = await CheckBodyAsync(service);
                last = body.GetRawText();
                if (body.GetProperty("checks").TryGetProperty(check, out var entry) && entry.GetProperty("status").GetString() == status) return;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException)
            {
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"/health check '{check}' did not become {status} within {timeout} (last: {last}):\n{service.Output}");
    }
}
