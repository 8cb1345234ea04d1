using AtSync.Core.Storage;
using MySqlConnector;

namespace AtSync.Firehose.Verify;

/// <summary>
/// Which DIDs are phpBB users (<c>atproto_users</c>): read before an <c>#identity</c> is re-checked, so the verify stage
/// resolves only the forum's own authors, not every account the relay announces. A read outside the batch's
/// transaction; a DID linked in the same batch is checked at its next <c>#identity</c>.
/// </summary>
public sealed class LinkedDids(MySqlDataSource dataSource, AtSyncTables tables)
{
    private const int Chunk = 500;

    public async Task<IReadOnlySet<string>> LinkedAsync(IReadOnlyList<string> dids, CancellationToken ct)
    {
        var linked = new HashSet<string>(StringComparer.Ordinal);
        if (dids.Count == 0) return linked;
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        foreach (var chunk in dids.Distinct(StringComparer.Ordinal).Chunk(Chunk))
        {
            await using var command = connection.CreateCommand();
            var names = new List<string>(chunk.Length);
            for (var i = 0; i < chunk.Length; i++)
            {
                names.Add("@d" + i);
                command.Parameters.AddWithValue("@d" + i, chunk[i]);
            }
            command.CommandText = $"SELECT did FROM {tables.Users} WHERE did IN ({string.Join(",", names)})";
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct)) linked.Add(reader.GetString(0));
        }
        return linked;
    }
}
