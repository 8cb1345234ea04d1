using AtSync.Core.Forum;
using AtSync.Core.Storage;
using MySqlConnector;

namespace AtSync.QueueWorker.Boards;

/// <summary>
/// Catches up what the forum triggers (migrations 500, 510) could not enqueue: boards that existed before AtSync, or
/// were made while the forum account had no session yet, mappings whose phpBB forum is gone, and children whose
/// record refers to an older CID of their parent's record than the parent has now (<c>atproto_forums.parent_cid</c>).
/// Enqueues a board row for each forum without a mapping (any type, in phpBB's order <c>left_id</c>, so parents come
/// before their children), each mapping without a forum and each such stale child, unless that forum already has an
/// unfinished board row. Runs under a named lock, so two workers reconciling at once enqueue each row once.
/// </summary>
public sealed class BoardReconciler(MySqlDataSource dataSource, AtSyncTables tables, TimeProvider time)
{
    private static readonly string Unfinished = $"'{QueueStatus.Pending.ToSql()}', '{QueueStatus.Processing.ToSql()}'";

    public sealed record Result(int Creates, int Deletes, int Rewrites = 0);

    public async Task<Result> ReconcileAsync(string forumDid, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var lockName = $"atsync_boards_{tables.Prefix}";
        await using (var take = new MySqlCommand("SELECT GET_LOCK(@name, 10)", connection))
        {
            take.Parameters.AddWithValue("@name", lockName);
            if (Convert.ToInt64(await take.ExecuteScalarAsync(cancellationToken) ?? 0L) != 1) return new Result(0, 0);
        }
        try
        {
            var creates = await EnqueueAsync(connection, null, forumDid, QueueOperation.Create, $"""
                SELECT f.forum_id, f.left_id AS sort FROM {tables.PhpbbForums} f LEFT JOIN {tables.Forums} m ON m.forum_id = f.forum_id
                WHERE m.forum_id IS NULL
                """, cancellationToken);
            var deletes = await EnqueueAsync(connection, null, forumDid, QueueOperation.Delete, $"""
                SELECT m.forum_id, 0 AS sort FROM {tables.Forums} m LEFT JOIN {tables.PhpbbForums} f ON f.forum_id = m.forum_id
                WHERE f.forum_id IS NULL
                """, cancellationToken);
            var rewrites = await EnqueueAsync(connection, null, forumDid, QueueOperation.Update, StaleChildren(tables, null), cancellationToken);
            return new Result(creates, deletes, rewrites);
        }
        finally
        {
            await using var release = new MySqlCommand("SELECT RELEASE_LOCK(@name)", connection);
            release.Parameters.AddWithValue("@name", lockName);
            await release.ExecuteScalarAsync(CancellationToken.None);
        }
    }

    /// <summary>
    /// Enqueues a board update for each child of <paramref name="parentIds"/> whose record refers to another CID of
    /// its parent than the parent's mapping has now, in the caller's transaction (the queue store, when a board's
    /// record was just rewritten). Children with an unfinished row are left to it: it reads the current mapping.
    /// </summary>
    internal static Task<int> EnqueueStaleChildrenAsync(MySqlConnection connection, MySqlTransaction transaction, AtSyncTables tables,
        string forumDid, IReadOnlyCollection<long> parentIds, long now, CancellationToken cancellationToken) =>
        parentIds.Count == 0
            ? Task.FromResult(0)
            : Enqueue(connection, transaction, tables, forumDid, QueueOperation.Update, StaleChildren(tables, parentIds), now, cancellationToken);

    /// <summary>Mapped forums whose record's parent CID is not their parent's current CID (optionally only children of <paramref name="parentIds"/>).</summary>
    private static string StaleChildren(AtSyncTables t, IReadOnlyCollection<long>? parentIds) => $"""
        SELECT c.forum_id, c.left_id AS sort FROM {t.PhpbbForums} c
          JOIN {t.Forums} cm ON cm.forum_id = c.forum_id
          JOIN {t.PhpbbForums} p ON p.forum_id = c.parent_id AND p.forum_id <> c.forum_id
          JOIN {t.Forums} pm ON pm.forum_id = p.forum_id
        WHERE NOT (cm.parent_cid <=> pm.at_cid){(parentIds is null ? "" : $" AND c.parent_id IN ({string.Join(',', parentIds)})")}
        """;

    private Task<int> EnqueueAsync(MySqlConnection connection, MySqlTransaction? transaction, string forumDid, QueueOperation operation, string candidates,
        CancellationToken cancellationToken) =>
        Enqueue(connection, transaction, tables, forumDid, operation, candidates, time.GetUtcNow().ToUnixTimeSeconds(), cancellationToken);

    /// <summary>Inserts one pending board row per candidate (<c>forum_id</c>, <c>sort</c>), in <c>sort</c> order, unless the forum has an unfinished board row.</summary>
    private static async Task<int> Enqueue(MySqlConnection connection, MySqlTransaction? transaction, AtSyncTables tables, string forumDid,
        QueueOperation operation, string candidates, long now, CancellationToken cancellationToken)
    {
        await using var command = new MySqlCommand($"""
            INSERT INTO {tables.Queue} (operation, collection, rkey, record_data, user_did, local_id, status, attempts, max_attempts, next_retry_at, created_at, updated_at)
            SELECT '{operation.ToSql()}', '{ForumLexicon.Board}', '', NULL, @did, candidate.forum_id, '{QueueStatus.Pending.ToSql()}', 0, 5, 0, @now, @now
            FROM ({candidates}) AS candidate
            WHERE NOT EXISTS (SELECT 1 FROM {tables.Queue} q WHERE q.collection = '{ForumLexicon.Board}' AND q.local_id = candidate.forum_id AND q.status IN ({Unfinished}))
            ORDER BY candidate.sort, candidate.forum_id
            """, connection, transaction);
        command.Parameters.AddWithValue("@did", forumDid);
        command.Parameters.AddWithValue("@now", now);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
