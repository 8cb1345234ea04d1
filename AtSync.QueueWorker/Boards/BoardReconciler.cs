using AtSync.Core.Forum;
using AtSync.Core.Storage;
using MySqlConnector;

namespace AtSync.QueueWorker.Boards;

/// <summary>
/// Catches up what the forum triggers (migration 500) could not enqueue: boards that existed before AtSync, or were
/// made while the forum account had no session yet, and mappings whose phpBB forum is gone. Enqueues a board row for
/// each FORUM_POST forum without a mapping and each mapping without a forum, unless that forum already has an
/// unfinished board row. Runs under a named lock, so two workers reconciling at once enqueue each row once.
/// </summary>
public sealed class BoardReconciler(MySqlDataSource dataSource, AtSyncTables tables, TimeProvider time)
{
    private static readonly string Unfinished = $"'{QueueStatus.Pending.ToSql()}', '{QueueStatus.Processing.ToSql()}'";

    public sealed record Result(int Creates, int Deletes);

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
            var creates = await EnqueueAsync(connection, forumDid, QueueOperation.Create, $"""
                SELECT f.forum_id FROM {tables.PhpbbForums} f LEFT JOIN {tables.Forums} m ON m.forum_id = f.forum_id
                WHERE f.forum_type = {PhpbbConstants.ForumPost} AND m.forum_id IS NULL
                """, cancellationToken);
            var deletes = await EnqueueAsync(connection, forumDid, QueueOperation.Delete, $"""
                SELECT m.forum_id FROM {tables.Forums} m LEFT JOIN {tables.PhpbbForums} f ON f.forum_id = m.forum_id
                WHERE f.forum_id IS NULL
                """, cancellationToken);
            return new Result(creates, deletes);
        }
        finally
        {
            await using var release = new MySqlCommand("SELECT RELEASE_LOCK(@name)", connection);
            release.Parameters.AddWithValue("@name", lockName);
            await release.ExecuteScalarAsync(CancellationToken.None);
        }
    }

    private async Task<int> EnqueueAsync(MySqlConnection connection, string forumDid, QueueOperation operation, string forumIds, CancellationToken cancellationToken)
    {
        await using var command = new MySqlCommand($"""
            INSERT INTO {tables.Queue} (operation, collection, rkey, record_data, user_did, local_id, status, attempts, max_attempts, next_retry_at, created_at, updated_at)
            SELECT '{operation.ToSql()}', '{ForumLexicon.Board}', '', NULL, @did, candidate.forum_id, '{QueueStatus.Pending.ToSql()}', 0, 5, 0, @now, @now
            FROM ({forumIds}) AS candidate
            WHERE NOT EXISTS (SELECT 1 FROM {tables.Queue} q WHERE q.collection = '{ForumLexicon.Board}' AND q.local_id = candidate.forum_id AND q.status IN ({Unfinished}))
            """, connection);
        command.Parameters.AddWithValue("@did", forumDid);
        command.Parameters.AddWithValue("@now", time.GetUtcNow().ToUnixTimeSeconds());
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
