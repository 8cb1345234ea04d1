using AtSync.Core.Storage;
using MySqlConnector;

namespace AtSync.Cli.Commands;

/// <summary>The reads <c>status</c> and <c>doctor</c> share: cursors, the queue by status, counts.</summary>
public static class OperatorQueries
{
    public sealed record CursorRow(string Stream, long Value, long UpdatedAt);

    /// <summary>Where a stream's cursor stood at <c>SampledAt</c> (unix seconds).</summary>
    public sealed record CursorSample(long SampledAt, long Cursor);

    public sealed record QueueCounts(long Pending, long Processing, long DeadLetter, long? OldestPendingCreatedAt);

    public static async Task<List<CursorRow>> CursorsAsync(MySqlConnection connection, AtSyncTables tables, CancellationToken cancellationToken)
    {
        await using var command = new MySqlCommand($"SELECT service, cursor_value, updated_at FROM {tables.Cursors} ORDER BY service", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<CursorRow>();
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(new CursorRow(reader.GetString(0), Convert.ToInt64(reader.GetValue(1)), Convert.ToInt64(reader.GetValue(2))));
        }
        return rows;
    }

    /// <summary>The last sample of <paramref name="stream"/>'s cursor taken at or before <paramref name="unixSeconds"/> (migration 700).</summary>
    public static async Task<CursorSample?> CursorSampleAtAsync(MySqlConnection connection, AtSyncTables tables, string stream, long unixSeconds, CancellationToken cancellationToken)
    {
        await using var command = new MySqlCommand($"""
            SELECT sampled_at, cursor_value FROM {tables.CursorSamples}
            WHERE service = @s AND sampled_at <= @at ORDER BY sampled_at DESC LIMIT 1
            """, connection);
        command.Parameters.AddWithValue("@s", stream);
        command.Parameters.AddWithValue("@at", Math.Max(0, unixSeconds));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? new CursorSample(Convert.ToInt64(reader.GetValue(0)), Convert.ToInt64(reader.GetValue(1))) : null;
    }

    public static async Task<QueueCounts> QueueAsync(MySqlConnection connection, AtSyncTables tables, CancellationToken cancellationToken)
    {
        await using var command = new MySqlCommand($"""
            SELECT
              COALESCE(SUM(status = 'pending'), 0), COALESCE(SUM(status = 'processing'), 0), COALESCE(SUM(status = 'dead_letter'), 0),
              MIN(CASE WHEN status = 'pending' THEN created_at END)
            FROM {tables.Queue}
            """, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new QueueCounts(Convert.ToInt64(reader.GetValue(0)), Convert.ToInt64(reader.GetValue(1)), Convert.ToInt64(reader.GetValue(2)),
            reader.IsDBNull(3) ? null : Convert.ToInt64(reader.GetValue(3)));
    }

    public static async Task<long> CountAsync(MySqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new MySqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken));
    }
}
