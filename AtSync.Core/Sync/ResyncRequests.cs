using AtSync.Core.Storage;
using MySqlConnector;

namespace AtSync.Core.Sync;

/// <summary>
/// Asks for a repository's import from its PDS (<c>getRepo</c>): its <c>atproto_repos</c> row becomes
/// <see cref="RepoStatus.ResyncRequested"/> with a fresh retry budget, so the Firehose's import worker takes it (and its live
/// commits wait until the import is done). A repository being imported right now keeps its run; one already waiting
/// keeps its status (a desynchronized one stays desynchronized) but is due at once. One home for the request, used by
/// <c>atsync backfill</c>, the linking flow and the relay listing.
/// </summary>
public static class ResyncRequests
{
    /// <summary>Requests an import of <paramref name="did"/>; returns false when an import of it is already running.</summary>
    public static async Task<bool> RequestAsync(MySqlConnection connection, MySqlTransaction? transaction, AtSyncTables tables, string did,
        ResyncRequester requester, long now, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(did);
        var importing = RepoStatus.Importing.ToSql();
        // ON DUPLICATE KEY UPDATE assigns left to right and later assignments see earlier ones: status goes last.
        await using var command = new MySqlCommand($"""
            INSERT INTO {tables.Repos} (did, status, requested_by, requested_at, updated_at)
            VALUES (@did, '{RepoStatus.ResyncRequested.ToSql()}', @by, @now, @now)
            ON DUPLICATE KEY UPDATE
              requested_by = IF(status IN ('{importing}', '{RepoStatus.Desynchronized.ToSql()}'), requested_by, @by),
              requested_at = IF(status = '{importing}', requested_at, @now),
              attempts = IF(status = '{importing}', attempts, 0),
              retry_at = IF(status = '{importing}', retry_at, 0),
              reason = IF(status = '{importing}', reason, ''),
              updated_at = @now,
              status = IF(status IN ('{importing}', '{RepoStatus.Desynchronized.ToSql()}'), status, '{RepoStatus.ResyncRequested.ToSql()}')
            """, connection, transaction);
        command.Parameters.AddWithValue("@did", did);
        command.Parameters.AddWithValue("@by", requester.ToSql());
        command.Parameters.AddWithValue("@now", now);
        await command.ExecuteNonQueryAsync(cancellationToken);
        await using var read = new MySqlCommand($"SELECT status FROM {tables.Repos} WHERE did = @did", connection, transaction);
        read.Parameters.AddWithValue("@did", did);
        return await read.ExecuteScalarAsync(cancellationToken) is string status && status != importing;
    }
}
