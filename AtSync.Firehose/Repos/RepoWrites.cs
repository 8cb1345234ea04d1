using AtSync.Core.Storage;
using AtSync.Core.Sync;
using MySqlConnector;

namespace AtSync.Firehose.Repos;

/// <summary>
/// What a batch (or a release) changes in <c>atproto_repos</c> and <c>atproto_held_commits</c>, decided in the verify
/// stage and written by <see cref="Apply.BatchWriter"/> in the same transaction as the batch's rows and cursor, so a
/// held frame, a parked status or a new verified <c>rev</c> is never lost or doubled by a crash. Also carries the
/// counts recorded in metrics once the transaction commits.
/// </summary>
public sealed class RepoWrites
{
    private readonly List<Func<MySqlConnection, MySqlTransaction, AtSyncTables, long, CancellationToken, Task>> _writes = [];

    public Dictionary<string, long> Rejected { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, long> Held { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, long> Dropped { get; } = new(StringComparer.Ordinal);
    public long Released { get; private set; }
    public long ResyncsRequested { get; private set; }

    public bool IsEmpty => _writes.Count == 0;

    /// <summary>A verified commit: the repository's last <c>rev</c> and root move forward (never back).</summary>
    public void Verified(string did, string rev, string dataCid, long seq) => Add((c, t, tables, now, ct) => Exec(c, t, $"""
        INSERT INTO {tables.Repos} (did, rev, data_cid, seq, status, updated_at) VALUES (@did, @rev, @data, @seq, '{RepoStatus.Active.ToSql()}', @now)
        ON DUPLICATE KEY UPDATE data_cid = IF(rev < @rev, @data, data_cid), seq = IF(rev < @rev, @seq, seq),
          reason = IF(rev < @rev AND status = '{RepoStatus.Active.ToSql()}', '', reason), rev = IF(rev < @rev, @rev, rev), updated_at = @now
        """, ct, ("@did", did), ("@rev", rev), ("@data", dataCid), ("@seq", seq), ("@now", now)));

    /// <summary>A commit whose key cannot be had now: the repository waits until <paramref name="retryAt"/>.</summary>
    public void Park(string did, string reason, int attempts, long retryAt) => Add((c, t, tables, now, ct) => Exec(c, t, $"""
        INSERT INTO {tables.Repos} (did, status, reason, attempts, retry_at, updated_at)
        VALUES (@did, '{RepoStatus.Parked.ToSql()}', @reason, @attempts, @retry, @now)
        ON DUPLICATE KEY UPDATE status = '{RepoStatus.Parked.ToSql()}', reason = @reason, attempts = @attempts, retry_at = @retry, updated_at = @now
        """, ct, ("@did", did), ("@reason", reason), ("@attempts", attempts), ("@retry", retryAt), ("@now", now)));

    /// <summary>A commit that failed verification: the repository must be re-imported (helper backfill's importer).</summary>
    public void Desynchronize(string did, string reason)
    {
        Rejected[reason] = Rejected.GetValueOrDefault(reason) + 1;
        SetStatus(did, RepoStatus.Desynchronized, reason);
    }

    /// <summary>A verified <c>#sync</c> newer than the stored rev: an import is asked for.</summary>
    public void RequestResync(string did, string requestedBy)
    {
        ResyncsRequested++;
        Add((c, t, tables, now, ct) => Exec(c, t, $"""
            INSERT INTO {tables.Repos} (did, status, reason, requested_by, requested_at, updated_at)
            VALUES (@did, '{RepoStatus.ResyncRequested.ToSql()}', '', @by, @now, @now)
            ON DUPLICATE KEY UPDATE status = '{RepoStatus.ResyncRequested.ToSql()}', requested_by = @by, requested_at = @now, updated_at = @now
            """, ct, ("@did", did), ("@by", requestedBy), ("@now", now)));
    }

    /// <summary>Back in step after a release: live commits go straight through again.</summary>
    public void Activate(string did) => Add((c, t, tables, now, ct) => Exec(c, t, $"""
        UPDATE {tables.Repos} SET status = '{RepoStatus.Active.ToSql()}', reason = '', attempts = 0, retry_at = 0, updated_at = @now
        WHERE did = @did AND status = '{RepoStatus.Parked.ToSql()}'
        """, ct, ("@did", did), ("@now", now)));

    /// <summary>
    /// A frame that must wait for its repository (<paramref name="reason"/>: parked, behind, …; a metric tag), in
    /// <paramref name="format"/> (<see cref="HeldFormats"/>: a relay frame or a Jetstream event's JSON).
    /// </summary>
    public void Hold(string did, long seq, string stream, byte[] frame, string reason, string format = HeldFormats.Relay)
    {
        Held[reason] = Held.GetValueOrDefault(reason) + 1;
        Add((c, t, tables, now, ct) => Exec(c, t, $"""
            INSERT IGNORE INTO {tables.HeldCommits} (did, seq, stream, format, frame, held_at) VALUES (@did, @seq, @stream, @format, @frame, @now)
            """, ct, ("@did", did), ("@seq", seq), ("@stream", stream), ("@format", format), ("@frame", frame), ("@now", now)));
        // A row for every repository with held frames, so the releaser and operators see it.
        Add((c, t, tables, now, ct) => Exec(c, t, $"""
            INSERT IGNORE INTO {tables.Repos} (did, updated_at) VALUES (@did, @now)
            """, ct, ("@did", did), ("@now", now)));
    }

    /// <summary>Held frames that went through verification again (applied, skipped or refused): they are done.</summary>
    public void Release(string did, IReadOnlyList<long> seqs)
    {
        if (seqs.Count == 0) return;
        Released += seqs.Count;
        Add(async (c, t, tables, now, ct) =>
        {
            foreach (var chunk in seqs.Chunk(500))
            {
                await Exec(c, t, $"DELETE FROM {tables.HeldCommits} WHERE did = @did AND seq IN ({string.Join(", ", chunk)})", ct, ("@did", did));
            }
        });
    }

    /// <summary>
    /// The key stayed unavailable past the bounds: the held frames are dropped, counted under <paramref name="reason"/>,
    /// and the repository is left desynchronized with that reason (an import repairs it).
    /// </summary>
    public void GiveUp(string did, IReadOnlyList<long> seqs, string reason)
    {
        Dropped[reason] = Dropped.GetValueOrDefault(reason) + seqs.Count;
        Add(async (c, t, tables, now, ct) =>
        {
            foreach (var chunk in seqs.Chunk(500))
            {
                await Exec(c, t, $"DELETE FROM {tables.HeldCommits} WHERE did = @did AND seq IN ({string.Join(", ", chunk)})", ct, ("@did", did));
            }
        });
        SetStatus(did, RepoStatus.Desynchronized, reason);
    }

    /// <summary>
    /// A frame that would pass the repository's bound of held commits: not kept, counted under <paramref name="reason"/>;
    /// the first one desynchronizes the repository with that reason (an import repairs it).
    /// </summary>
    public void DropOverLimit(string did, string reason, bool first)
    {
        Dropped[reason] = Dropped.GetValueOrDefault(reason) + 1;
        if (first) SetStatus(did, RepoStatus.Desynchronized, reason);
    }

    /// <summary>Runs every change, in the order decided, inside <paramref name="transaction"/>.</summary>
    public async Task WriteAsync(MySqlConnection connection, MySqlTransaction transaction, AtSyncTables tables, long now, CancellationToken ct)
    {
        foreach (var write in _writes) await write(connection, transaction, tables, now, ct);
    }

    public void Record(FirehoseMetrics metrics)
    {
        foreach (var (reason, count) in Rejected) metrics.CommitsRejected(reason, count);
        foreach (var (reason, count) in Held) metrics.CommitsHeld(reason, count);
        foreach (var (reason, count) in Dropped) metrics.CommitsDropped(reason, count);
        if (Released > 0) metrics.CommitsReleased(Released);
        if (ResyncsRequested > 0) metrics.ResyncsRequested(ResyncsRequested);
    }

    private void SetStatus(string did, RepoStatus status, string reason) => Add((c, t, tables, now, ct) => Exec(c, t, $"""
        INSERT INTO {tables.Repos} (did, status, reason, retry_at, updated_at) VALUES (@did, '{status.ToSql()}', @reason, 0, @now)
        ON DUPLICATE KEY UPDATE status = '{status.ToSql()}', reason = @reason, retry_at = 0, updated_at = @now
        """, ct, ("@did", did), ("@reason", reason), ("@now", now)));

    private void Add(Func<MySqlConnection, MySqlTransaction, AtSyncTables, long, CancellationToken, Task> write) => _writes.Add(write);

    private static async Task Exec(MySqlConnection connection, MySqlTransaction transaction, string sql, CancellationToken ct, params (string Name, object? Value)[] parameters)
    {
        await using var command = new MySqlCommand(sql, connection, transaction);
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        await command.ExecuteNonQueryAsync(ct);
    }
}
