using System.Net;
using System.Text.Json;
using AtSync.Core.Storage;
using AtSync.Tests.Infrastructure;
using MySqlConnector;

namespace AtSync.Tests.Core;

/// <summary>
/// A server as MySQL 8.4 runs by default: binary logging on, <c>log_bin_trust_function_creators</c> off, and the
/// services' account without SUPER. Creating the outbox triggers is then refused (error 1419): the services say in
/// one line what to change, and carry on by themselves once it is changed.
/// </summary>
public sealed class TriggerPermissionTests
{
    [Fact]
    public async Task Services_report_the_setting_that_forbids_triggers_in_one_line_and_recover_once_it_is_set()
    {
        await using var server = await MariaDbServer.StartDedicatedAsync(new MariaDbServerOptions(TrustFunctionCreators: false));
        await using var database = await server.CreateDatabaseAsync();
        Assert.Equal(1L, await database.ScalarAsync<long>("SELECT @@GLOBAL.log_bin"));
        Assert.Equal(0L, await database.ScalarAsync<long>("SELECT @@GLOBAL.log_bin_trust_function_creators"));

        // The services' account as docker/init.sql grants it: data, DDL, locks, TRIGGER on the database; no SUPER.
        var password = Guid.NewGuid().ToString("N");
        await database.ExecuteAsync($"""
            CREATE USER 'atsync_app'@'127.0.0.1' IDENTIFIED BY '{password}';
            GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, DROP, INDEX, REFERENCES, CREATE TEMPORARY TABLES, LOCK TABLES,
                  CREATE VIEW, SHOW VIEW, TRIGGER ON `{database.Name}`.* TO 'atsync_app'@'127.0.0.1';
            """);
        var settings = ServiceSettings.For(database, ServiceSettings.NewTokenKeysJson());
        settings[AtSync.Core.Settings.SettingNames.ConnectionString] =
            new MySqlConnectionStringBuilder(database.ConnectionString) { UserID = "atsync_app", Password = password }.ConnectionString;

        await using var firehose = ServiceProcess.Start("AtSync.Firehose", settings);
        await using var worker = ServiceProcess.Start("AtSync.QueueWorker", settings);
        foreach (var service in new[] { firehose, worker })
        {
            await WaitForOutputAsync(service, TriggerPermission.Problem, TimeSpan.FromSeconds(60));
            var body = await CheckBodyAsync(service);
            var schema = body.GetProperty("checks").GetProperty(DatabaseRegistration.SchemaHealthCheckName);
            Assert.Equal("Unhealthy", schema.GetProperty("status").GetString());
            Assert.Equal(TriggerPermission.Problem, schema.GetProperty("description").GetString());
        }
        // Several retries later, still one line each.
        await Task.Delay(TimeSpan.FromSeconds(7));
        foreach (var service in new[] { firehose, worker })
        {
            // (ASP.NET Core's health check service also logs the description of each unhealthy /health answer.)
            Assert.Single(service.OutputLines, line => line.Contains(TriggerPermission.Problem, StringComparison.Ordinal)
                && !line.Contains("Health check", StringComparison.Ordinal));
            Assert.DoesNotContain(password, service.Output);
        }
        Assert.Equal(0L, await database.ScalarAsync<long>(
            $"SELECT COUNT(*) FROM information_schema.triggers WHERE trigger_schema = DATABASE() AND event_object_table = '{database.Tables.PhpbbPosts}'"));

        // What the line says to do, as an administrator would.
        await database.ExecuteAsync("SET GLOBAL log_bin_trust_function_creators = 1");

        foreach (var service in new[] { firehose, worker })
        {
            await ServiceStartupTests.WaitForCheckAsync(service, DatabaseRegistration.SchemaHealthCheckName, "Healthy", TimeSpan.FromSeconds(30));
        }
        Assert.Equal(3L, await database.ScalarAsync<long>(
            $"SELECT COUNT(*) FROM information_schema.triggers WHERE trigger_schema = DATABASE() AND event_object_table = '{database.Tables.PhpbbPosts}'"));
        Assert.Equal(SchemaMigrations.All.Count, await database.ScalarAsync<long>($"SELECT COUNT(*) FROM {database.Tables.SchemaMigrations}"));
        // The binary log holds what was written (and the server bounds how long it keeps it).
        Assert.True(await database.ScalarAsync<long>("SELECT @@GLOBAL.binlog_expire_logs_seconds") > 0);
    }

    private static async Task WaitForOutputAsync(ServiceProcess service, string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!service.Output.Contains(text, StringComparison.Ordinal))
        {
            if (service.HasExited) throw new InvalidOperationException($"The service exited with {service.ExitCode}:\n{service.Output}");
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"No line with \"{text}\" within {timeout}:\n{service.Output}");
            await Task.Delay(100);
        }
    }

    private static async Task<JsonElement> CheckBodyAsync(ServiceProcess service)
    {
        using var response = await service.GetAsync("/health");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }
}
