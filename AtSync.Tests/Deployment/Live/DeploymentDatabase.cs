using System.Globalization;
using AtSync.Core.Storage;
using AtSync.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using MySqlConnector;

namespace AtSync.Tests.Deployment.Live;

/// <summary>SQL helpers of the deployment test, against the deployment's database or the clean-pass reference.</summary>
public static class DeploymentDatabase
{
    public static async Task<MySqlConnection> OpenAsync(string connectionString)
    {
        var connection = new MySqlConnection(connectionString);
        await connection.OpenAsync();
        return connection;
    }

    public static async Task ExecuteAsync(string connectionString, string sql, params (string Name, object? Value)[] parameters)
    {
        await using var connection = await OpenAsync(connectionString);
        await using var command = new MySqlCommand(sql, connection);
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        await command.ExecuteNonQueryAsync();
    }

    public static async Task<long> CountAsync(string connectionString, string sql)
    {
        await using var connection = await OpenAsync(connectionString);
        await using var command = new MySqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }

    public static async Task<long?> CursorAsync(string connectionString, AtSyncTables tables, string service)
    {
        try
        {
            await using var connection = await OpenAsync(connectionString);
            await using var command = new MySqlCommand($"SELECT cursor_value FROM {tables.Cursors} WHERE service = @s", connection);
            command.Parameters.AddWithValue("@s", service);
            var value = await command.ExecuteScalarAsync();
            return value is null or DBNull ? null : Convert.ToInt64(value, CultureInfo.InvariantCulture);
        }
        catch (MySqlException)
        {
            return null;
        }
    }

    public static async Task<long> WaitForCursorAsync(string connectionString, AtSyncTables tables, string service, long seq, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        long? last = null;
        while (DateTime.UtcNow < deadline)
        {
            last = await CursorAsync(connectionString, tables, service);
            if (last >= seq) return last.Value;
            await Task.Delay(100);
        }
        throw new TimeoutException($"cursor '{service}' did not reach {seq} within {timeout.TotalSeconds} s (last {last?.ToString(CultureInfo.InvariantCulture) ?? "none"})");
    }

    /// <summary>Copies every row of <paramref name="table"/> (same definition on both sides).</summary>
    public static async Task CopyRowsAsync(string fromConnectionString, string toConnectionString, string table)
    {
        await using var from = await OpenAsync(fromConnectionString);
        await using var to = await OpenAsync(toConnectionString);
        await using var select = new MySqlCommand($"SELECT * FROM {table}", from);
        await using var reader = await select.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var columns = Enumerable.Range(0, reader.FieldCount).Select(reader.GetName).ToList();
            await using var insert = new MySqlCommand(
                $"INSERT INTO {table} ({string.Join(", ", columns)}) VALUES ({string.Join(", ", columns.Select((_, i) => "@p" + i))})", to);
            for (var i = 0; i < columns.Count; i++) insert.Parameters.AddWithValue("@p" + i, reader.GetValue(i));
            await insert.ExecuteNonQueryAsync();
        }
    }

    public static async Task MigrateAsync(string connectionString, AtSyncTables tables)
    {
        await using var dataSource = new MySqlDataSource(connectionString);
        await new SchemaMigrator(dataSource, tables, TimeProvider.System, NullLogger<SchemaMigrator>.Instance).MigrateAsync(SchemaMigrations.All, CancellationToken.None);
    }

    /// <summary>Maps a phpBB forum to a board AT-URI (what the forum's admin does when linking a board).</summary>
    public static Task MapForumAsync(string connectionString, AtSyncTables tables, long forumId, string boardUri, string boardCid, string slug) =>
        ExecuteAsync(connectionString, $"INSERT INTO {tables.Forums} (forum_id, at_uri, at_cid, slug) VALUES (@id, @uri, @cid, @slug)",
            ("@id", forumId), ("@uri", boardUri), ("@cid", boardCid), ("@slug", slug));

    /// <summary>The deployment's database as a <see cref="TestDatabase"/> for <c>DatabaseSnapshot</c> (never disposed: it is not the test server's).</summary>
    public static TestDatabase AsTestDatabase(MariaDbServer anyServer, string connectionString) => new(anyServer, "phpbb", connectionString, "phpbb_");
}
