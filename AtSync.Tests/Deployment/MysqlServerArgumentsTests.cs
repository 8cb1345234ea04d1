using AtSync.Tests.Infrastructure;

namespace AtSync.Tests.Deployment;

/// <summary>
/// What MySQL needs for AtSync is on mysqld's command line (docker/mysqld.args), not only in docker/my.cnf, and the
/// test servers (MariaDbServer, .ci/run) run with binary logging on, as MySQL 8.4 does by default.
/// </summary>
public sealed class MysqlServerArgumentsTests
{
    private static Dictionary<string, string> Arguments() =>
        File.ReadLines(Path.Combine(RepositoryPaths.Root, "docker", "mysqld.args"))
            .Select(line => line.Trim())
            .Where(line => line.Length > 0 && !line.StartsWith('#'))
            .Select(line => line.Split('=', 2))
            .ToDictionary(parts => parts[0], parts => parts.Length > 1 ? parts[1] : "");

    private static Dictionary<string, string> Config() =>
        File.ReadLines(Path.Combine(RepositoryPaths.Root, "docker", "my.cnf"))
            .Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => l.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0].Trim(), p => p[1].Trim());

    [Fact]
    public void Mysqld_arguments_allow_the_triggers_and_bound_binary_log_retention_as_my_cnf_does()
    {
        var arguments = Arguments();
        Assert.All(arguments.Keys, key => Assert.StartsWith("--", key, StringComparison.Ordinal));
        Assert.Equal("1", arguments["--log-bin-trust-function-creators"]);
        var retention = long.Parse(arguments["--binlog-expire-logs-seconds"], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(retention, 3600, 14 * 86400);

        var config = Config();
        Assert.Equal(arguments["--log-bin-trust-function-creators"], config["log_bin_trust_function_creators"]);
        Assert.Equal(arguments["--binlog-expire-logs-seconds"], config["binlog_expire_logs_seconds"]);
    }

    [Fact]
    public void The_test_servers_run_with_binary_logging_on()
    {
        Assert.Contains("--log-bin=binlog", MariaDbServer.ProductionLikeArguments);
        Assert.Contains(MariaDbServer.ProductionLikeArguments, a => a.StartsWith("--binlog-expire-logs-seconds=", StringComparison.Ordinal));
        var ci = File.ReadAllText(Path.Combine(RepositoryPaths.Root, ".ci", "run"));
        Assert.DoesNotContain("--skip-log-bin", ci, StringComparison.Ordinal);
        foreach (var argument in MariaDbServer.ProductionLikeArguments)
        {
            Assert.Contains(argument, ci, StringComparison.Ordinal);
        }
        Assert.Contains("--log-bin-trust-function-creators=1", ci, StringComparison.Ordinal);
        Assert.Contains("SslMode=Required", ci, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_test_server_has_binary_logging_on_and_connections_use_tls()
    {
        await using var server = await MariaDbServer.StartDedicatedAsync();
        await using var database = await server.CreateDatabaseAsync(withPhpbbSchema: false);
        Assert.Equal(1L, await database.ScalarAsync<long>("SELECT @@GLOBAL.log_bin"));
        await using var connection = await database.OpenAsync();
        await using var command = new MySqlConnector.MySqlCommand("SHOW SESSION STATUS LIKE 'Ssl_cipher'", connection);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.NotEqual("", reader.GetString(1));
    }
}
