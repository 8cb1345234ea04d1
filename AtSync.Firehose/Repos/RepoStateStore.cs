using AtSync.Core.Storage;
using AtSync.Core.Sync;
using AtSync.Firehose.Apply;
using MySqlConnector;

namespace AtSync.Firehose.Repos;

/// <summary>
/// Reads <c>atproto_repos</c> and <c>atproto_held_commits</c> outside any transaction: the states the verify stage
/// decides with, the repositories the releaser has work for, and a repository's held frames. Writes are
/// <see cref="RepoWrites"/>, inside the batch's transaction.
/// </summary>
public sealed class RepoStateStore(MySqlDataSource dataSource, AtSyncTables tables)
{
    private const int LoadChunk = 500;

    /// <summary>The state of each of <paramref name="dids"/> that has a row (others are absent from the result).</summary>
    public async Task<Dictionary<string, RepoState>> LoadAsync(IReadOnlyCollection<string> dids, CancellationToken ct)
    {
        var states = new Dictionary<string, RepoState>(StringComparer.Ordinal);
        if (dids.Count == 0) return states;
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        foreach (var chunk in dids.Chunk(LoadChunk))
        {
            await using var command = new MySqlCommand { Connection = connection };
            var names = new List<string>(chunk.Length);
            for (var i = 0; i < chunk.Length; i++)
            {
                names.Add("@d" + i.ToString(System.Globalization.CultureInfo.InvariantCulture));
                command.Parameters.AddWithValue(names[^1], chunk[i]);
            }
            command.CommandText = $"""
                SELECT r.did, r.rev, r.data_cid, r.seq, r.status, r.reason, r.attempts, r.retry_at,
                       (SELECT COUNT(*) FROM {tables.HeldCommits} h WHERE h.did = r.did) AS held
                FROM {tables.Repos} r WHERE r.did IN ({string.Join(", ", names)})
                """;
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var state = Read(reader);
                states[state.Did] = state;
            }
        }
        return states;
    }

    /// <summary>One repository's state (null: never tracked).</summary>
    public async Task<RepoState?> GetAsync(string did, CancellationToken ct) =>
        (await LoadAsync([did], ct)).GetValueOrDefault(did);

    /// <summary>
    /// Repositories with held frames the releaser should look at now: parked ones whose <c>retry_at</c> is due, and
    /// active ones (a finished import, or a race with the stream) — oldest first.
    /// </summary>
    public async Task<List<string>> DueAsync(long now, int limit, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var command = new MySqlCommand($"""
            SELECT r.did FROM {tables.Repos} r
            WHERE (r.status = '{RepoStatus.Parked.ToSql()}' AND r.retry_at <= @now)
               OR (r.status = '{RepoStatus.Active.ToSql()}' AND EXISTS (SELECT 1 FROM {tables.HeldCommits} h WHERE h.did = r.did))
            ORDER BY r.retry_at, r.did LIMIT @limit
            """, connection);
        command.Parameters.AddWithValue("@now", now);
        command.Parameters.AddWithValue("@limit", limit);
        var dids = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) dids.Add(reader.GetString(0));
        return dids;
    }

    /// <summary>
    /// The oldest held frames of <paramref name="did"/>, in seq order: at most <paramref name="limit"/> of them and, after
    /// the first, no more than <paramref name="maxBytes"/> of frame bytes (the running total is the server's).
    /// </summary>
    public async Task<List<HeldFrame>> HeldAsync(string did, int limit, long maxBytes, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var command = new MySqlCommand($"""
            SELECT did, seq, stream, frame, held_at, format FROM (
              SELECT did, seq, stream, frame, held_at, format, SUM(LENGTH(frame)) OVER (ORDER BY seq) - LENGTH(frame) AS before_bytes
              FROM {tables.HeldCommits} WHERE did = @did ORDER BY seq LIMIT @limit) h
            WHERE before_bytes < @maxBytes ORDER BY seq
            """, connection);
        command.Parameters.AddWithValue("@did", did);
        command.Parameters.AddWithValue("@limit", limit);
        command.Parameters.AddWithValue("@maxBytes", maxBytes);
        var frames = new List<HeldFrame>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            frames.Add(new HeldFrame(reader.GetString(0), reader.Int64At(1), reader.GetString(2), (byte[])reader.GetValue(3), reader.Int64At(4), reader.GetString(5)));
        }
        return frames;
    }

    private static RepoState Read(MySqlDataReader reader) => new(
        reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.Int64At(3), RepoStatusSql.Parse(reader.GetString(4)), reader.GetString(5),
        reader.Int32At(6), reader.Int64At(7), reader.Int64At(8) != 0, (int)Math.Min(int.MaxValue, reader.Int64At(8)));
}
