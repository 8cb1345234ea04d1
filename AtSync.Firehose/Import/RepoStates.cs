using System.Data;
using AtSync.Core.Storage;
using AtSync.Core.Sync;
using AtSync.Firehose.Apply;
using MySqlConnector;

namespace AtSync.Firehose.Import;

/// <summary>
/// A repository its importer holds: the lease is fenced by <see cref="Attempt"/> (a later claim increments it);
/// <see cref="Waiting"/> is where it goes back to when the import fails (the status it was claimed from).
/// </summary>
public sealed record ClaimedRepo(string Did, int Attempt, ResyncRequester RequestedBy, string Rev, string DataCid, RepoStatus Waiting);

/// <summary>
/// <c>atproto_repos</c> as the importer sees it: claims (<c>SKIP LOCKED</c>, one importer per DID across processes,
/// the lease deadline in <c>retry_at</c> while <c>importing</c>), progress, success and failure with a bounded
/// per-DID backoff. Every write after the claim is fenced by the attempt number, so an importer whose lease expired
/// and was taken over cannot finish the row late. <c>attempts</c> is shared with the live path's parked retries: it
/// counts imports only while <c>reason</c> is an import's (<see cref="FailurePrefix"/>); a repository that arrives
/// from elsewhere (desynchronized, parked and given up, requested) starts a fresh import budget.
/// </summary>
public sealed class RepoStates(MySqlDataSource dataSource, AtSyncTables tables)
{
    private static readonly string Importing = RepoStatus.Importing.ToSql();
    private static readonly string Desynchronized = RepoStatus.Desynchronized.ToSql();
    private static readonly string Requested = RepoStatus.ResyncRequested.ToSql();

    /// <summary>
    /// Claims up to <paramref name="limit"/> due repositories (waiting with <c>retry_at</c> passed and attempts left, or
    /// importing with an expired lease), or only <paramref name="onlyDid"/>; each becomes <c>importing</c> until
    /// <paramref name="now"/> + <paramref name="lease"/>.
    /// </summary>
    public async Task<IReadOnlyList<ClaimedRepo>> ClaimAsync(int limit, long now, TimeSpan lease, CancellationToken ct,
        string? onlyDid = null, IReadOnlyCollection<string>? exclude = null)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct);
        var claimed = new List<ClaimedRepo>();
        await using (var select = new MySqlCommand($"""
            SELECT did, attempts, requested_by, rev, data_cid, status, reason FROM {tables.Repos}
            WHERE ((status IN ('{Desynchronized}', '{Requested}') AND retry_at <= @now AND reason NOT LIKE '{GaveUpPrefix}%') OR (status = '{Importing}' AND retry_at <= @now))
              {(onlyDid is null ? "" : "AND did = @did")}
            ORDER BY retry_at, requested_at LIMIT @limit FOR UPDATE SKIP LOCKED
            """, connection, transaction))
        {
            select.Parameters.AddWithValue("@now", now);
            select.Parameters.AddWithValue("@limit", limit + (exclude?.Count ?? 0));
            if (onlyDid is not null) select.Parameters.AddWithValue("@did", onlyDid);
            await using var reader = await select.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var did = reader.GetString(0);
                if (exclude?.Contains(did) == true || claimed.Count >= limit) continue;
                var status = RepoStatusSql.Parse(reader.GetString(5));
                var requestedBy = ResyncRequesterSql.Parse(reader.GetString(2));
                var ours = status == RepoStatus.Importing || reader.GetString(6).StartsWith(FailurePrefix, StringComparison.Ordinal);
                claimed.Add(new ClaimedRepo(did, (ours ? Convert.ToInt32(reader.GetValue(1)) : 0) + 1, requestedBy, reader.GetString(3), reader.GetString(4),
                    status == RepoStatus.Importing ? requestedBy.WaitingStatus() : status));
            }
        }
        foreach (var repo in claimed)
        {
            await using var update = new MySqlCommand($"""
                UPDATE {tables.Repos} SET status = '{Importing}', attempts = @attempt, retry_at = @lease, records_imported = 0, updated_at = @now
                WHERE did = @did
                """, connection, transaction);
            update.Parameters.AddWithValue("@attempt", repo.Attempt);
            update.Parameters.AddWithValue("@lease", now + (long)lease.TotalSeconds);
            update.Parameters.AddWithValue("@now", now);
            update.Parameters.AddWithValue("@did", repo.Did);
            await update.ExecuteNonQueryAsync(ct);
        }
        await transaction.CommitAsync(ct);
        return claimed;
    }

    /// <summary>Saves progress and renews the lease inside the batch's transaction; false when the lease was lost.</summary>
    internal static async Task<bool> ProgressAsync(ForumSession db, ClaimedRepo repo, long recordsImported, long now, TimeSpan lease, CancellationToken ct) =>
        await db.ExecuteAsync($"""
            UPDATE {db.Tables.Repos} SET records_imported = @n, retry_at = @lease, updated_at = @now
            WHERE did = @did AND status = '{Importing}' AND attempts = @attempt
            """, ct, ("@n", recordsImported), ("@lease", now + (long)lease.TotalSeconds), ("@now", now), ("@did", repo.Did), ("@attempt", repo.Attempt)) == 1;

    /// <summary>The import is done: the repository is active again at the imported commit (live commits continue from it).</summary>
    internal static async Task<bool> CompleteAsync(ForumSession db, ClaimedRepo repo, string rev, string dataCid, long recordsImported, long now, CancellationToken ct) =>
        await db.ExecuteAsync($"""
            UPDATE {db.Tables.Repos} SET status = '{RepoStatus.Active.ToSql()}', rev = @rev, data_cid = @data, records_imported = @n,
              attempts = 0, retry_at = 0, reason = '{RepoStatusSql.ImportedReason}', updated_at = @now
            WHERE did = @did AND status = '{Importing}' AND attempts = @attempt
            """, ct, ("@rev", rev), ("@data", dataCid), ("@n", recordsImported), ("@now", now), ("@did", repo.Did), ("@attempt", repo.Attempt)) == 1;

    /// <summary>
    /// The import failed: the repository waits again (desynchronized or requested, by who asked), due after
    /// <paramref name="retryAt"/>; or, with <paramref name="giveUp"/>, waits for a new request. Returns false when the lease was lost.
    /// </summary>
    public async Task<bool> FailAsync(ClaimedRepo repo, string reason, long retryAt, bool giveUp, long now, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var command = new MySqlCommand($"""
            UPDATE {tables.Repos} SET status = @status, reason = @reason, retry_at = @retry, updated_at = @now
            WHERE did = @did AND status = '{Importing}' AND attempts = @attempt
            """, connection);
        command.Parameters.AddWithValue("@status", repo.Waiting.ToSql());
        command.Parameters.AddWithValue("@reason", Truncate((giveUp ? GaveUpPrefix : FailurePrefix) + reason));
        command.Parameters.AddWithValue("@retry", giveUp ? 0 : retryAt);
        command.Parameters.AddWithValue("@now", now);
        command.Parameters.AddWithValue("@did", repo.Did);
        command.Parameters.AddWithValue("@attempt", repo.Attempt);
        return await command.ExecuteNonQueryAsync(ct) == 1;
    }

    /// <summary>The importer stopped (shutdown): the repository waits again, due at once, and the interrupted attempt does not count.</summary>
    public async Task ReleaseAsync(ClaimedRepo repo, long now, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var command = new MySqlCommand($"""
            UPDATE {tables.Repos} SET status = @status, attempts = GREATEST(attempts, 1) - 1, retry_at = 0, updated_at = @now
            WHERE did = @did AND status = '{Importing}' AND attempts = @attempt
            """, connection);
        command.Parameters.AddWithValue("@status", repo.Waiting.ToSql());
        command.Parameters.AddWithValue("@now", now);
        command.Parameters.AddWithValue("@did", repo.Did);
        command.Parameters.AddWithValue("@attempt", repo.Attempt);
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>The <c>reason</c> of a repository whose last import failed (followed by an <see cref="ImportFailures"/> value).</summary>
    public const string FailurePrefix = "import: ";

    /// <summary>The <c>reason</c> of a repository whose imports were given up (claimed again only after a new request or desync).</summary>
    public const string GaveUpPrefix = "import gave up: ";

    private static string Truncate(string reason) => reason.Length <= 64 ? reason : reason[..64];
}
