using System.Globalization;
using AtSync.Core.Storage;
using MySqlConnector;

namespace AtSync.Firehose.Apply;

/// <summary>
/// One open transaction of the Firehose and the table names: what the phpBB layer (<c>Apply/Phpbb/</c>) and AtSync's
/// mappings (<c>Apply/Mappings/</c>) both write through, so an event's rows commit together with the stream's cursor.
/// </summary>
internal sealed class ForumSession(MySqlConnection connection, MySqlTransaction transaction, AtSyncTables tables)
{
    public AtSyncTables Tables => tables;

    public MySqlCommand Command(string sql, params (string Name, object? Value)[] parameters)
    {
        var command = new MySqlCommand(sql, connection, transaction);
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        return command;
    }

    public async Task<int> ExecuteAsync(string sql, CancellationToken ct, params (string Name, object? Value)[] parameters)
    {
        await using var command = Command(sql, parameters);
        return await command.ExecuteNonQueryAsync(ct);
    }

    public async Task<object?> ScalarAsync(string sql, CancellationToken ct, params (string Name, object? Value)[] parameters)
    {
        await using var command = Command(sql, parameters);
        var value = await command.ExecuteScalarAsync(ct);
        return value is DBNull ? null : value;
    }

    public async Task<long> CountAsync(string sql, CancellationToken ct, params (string Name, object? Value)[] parameters) =>
        Convert.ToInt64(await ScalarAsync(sql, ct, parameters) ?? 0L, CultureInfo.InvariantCulture);
}

/// <summary>Column values as the Firehose's tables hold them (MySQL integer types vary by server and column).</summary>
internal static class RowValues
{
    public static uint UInt32At(this MySqlDataReader reader, int ordinal) => Convert.ToUInt32(reader.GetValue(ordinal), CultureInfo.InvariantCulture);

    public static int Int32At(this MySqlDataReader reader, int ordinal) => Convert.ToInt32(reader.GetValue(ordinal), CultureInfo.InvariantCulture);

    public static long Int64At(this MySqlDataReader reader, int ordinal) => Convert.ToInt64(reader.GetValue(ordinal), CultureInfo.InvariantCulture);

    public static uint ToUInt32(object value) => Convert.ToUInt32(value, CultureInfo.InvariantCulture);
}
