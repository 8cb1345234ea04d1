using AtSync.Core.Storage;
using MySqlConnector;

namespace AtSync.Firehose.Apply.Mappings;

/// <summary>
/// <c>atproto_cursors</c>: each stream's last committed seq (<c>firehose</c>, <c>labels</c>). The cursor is written in
/// the same transaction as the batch's rows, so a crash leaves either both or neither. Beside it, the minute's sample in
/// <c>atproto_cursor_samples</c> (migration 700: the first cursor committed in each minute, for rewinds by time) and
/// the removal of samples past their retention (a bounded delete that finds nothing on most batches).
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
            ON DUPLICATE KEY UPDATE cursor_value = @cursor, updated_at = @now;
            INSERT INTO {db.Tables.CursorSamples} (service, sampled_at, cursor_value) VALUES (@service, @slot, @cursor)
            ON DUPLICATE KEY UPDATE cursor_value = cursor_value;
            DELETE FROM {db.Tables.CursorSamples} WHERE service = @service AND sampled_at < @cutoff ORDER BY sampled_at LIMIT 100
            """, ct, ("@service", service), ("@cursor", cursor), ("@now", now),
            ("@slot", CursorSampleRetention.Slot(now)), ("@cutoff", CursorSampleRetention.Cutoff(now)));
}
