using MySqlConnector;

namespace AtSync.Firehose.Apply.Mappings;

/// <summary>
/// <c>atproto_cursors</c>: each stream's last committed seq (<c>firehose</c>, <c>labels</c>). The cursor is written in
/// the same transaction as the batch's rows, so a crash leaves either both or neither.
/// </summary>
internal static class CursorRows
{
    public static async Task<long?> LoadAsync(MySqlConnection connection, Core.Storage.AtSyncTables tables, string service, CancellationToken ct)
    {
        await using var command = new MySqlCommand($"SELECT cursor_value FROM {tables.Cursors} WHERE service = @service", connection);
        command.Parameters.AddWithValue("@service", service);
        var value = await command.ExecuteScalarAsync(ct);
        return value is null or DBNull ? null : Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture);
    }

    public static Task SaveAsync(ForumSession db, string service, long cursor, long now, CancellationToken ct) =>
        db.ExecuteAsync($"""
            INSERT INTO {db.Tables.Cursors} (service, cursor_value, updated_at) VALUES (@service, @cursor, @now)
            ON DUPLICATE KEY UPDATE cursor_value = @cursor, updated_at = @now
            """, ct, ("@service", service), ("@cursor", cursor), ("@now", now));
}
