using System.Data;
using System.Text;
using AtSync.AtProto.Syntax;
using AtSync.Core.Forum;
using AtSync.Core.Resilience;
using AtSync.Core.Storage;
using MySqlConnector;

namespace AtSync.QueueWorker.Queue;

/// <summary>What became of one claimed row.</summary>
public abstract record RowOutcome
{
    private RowOutcome() { }

    /// <summary>
    /// Written: <c>atproto_posts</c> (a board: <c>atproto_forums</c>, with <paramref name="Slug"/> and the
    /// <paramref name="ParentCid"/> it refers to) gets the record's URI and CID, or loses its row after a delete; the
    /// queue row is removed.
    /// </summary>
    public sealed record Done(string? AtUri, string? AtCid, bool IsTopicStarter, string? Slug = null, string? ParentCid = null) : RowOutcome;

    /// <summary>Nothing to write (the post is gone, or a delete of a record never published); the queue row is removed.</summary>
    public sealed record Skipped(string Reason) : RowOutcome;

    /// <summary>Failed; retried at <paramref name="RetryAt"/> unless the row has used its attempts, then dead-lettered.</summary>
    public sealed record Failed(string Reason, string Error, DateTimeOffset RetryAt) : RowOutcome;

    /// <summary>Not tried (rate budget, 429, waiting for the topic's first post): back to pending without using an attempt.</summary>
    public sealed record Deferred(string Reason, DateTimeOffset RetryAt) : RowOutcome;

    /// <summary>Cannot succeed by retrying: dead-lettered now.</summary>
    public sealed record DeadLetter(string Reason, string Error) : RowOutcome;

    /// <summary>
    /// Shutdown (or a database failure) interrupted it: back to pending now. The attempt is given back only when no write
    /// was sent, so that a write that may have reached the PDS is retried as an idempotent put.
    /// </summary>
    public sealed record Released(bool WriteStarted) : RowOutcome;
}

/// <summary>
/// The queue table: claiming with <c>SELECT … FOR UPDATE SKIP LOCKED</c> and a lease (a <c>processing</c> row's
/// <c>next_retry_at</c> is its lease deadline), per-post ordering, fenced completion, lease recovery, purge, counts.
/// Time comes from the caller's <see cref="TimeProvider"/> (unix seconds), never from the database clock.
/// </summary>
public sealed class QueueStore(MySqlDataSource dataSource, AtSyncTables tables, TimeProvider time)
{
    public const int MaxErrorLength = 1000;

    private static readonly string Pending = QueueStatus.Pending.ToSql();
    private static readonly string Processing = QueueStatus.Processing.ToSql();
    private static readonly string DeadLetter = QueueStatus.DeadLetter.ToSql();
    private static readonly string Synced = SyncStatus.Synced.ToSql();
    private static readonly string FailedStatus = SyncStatus.Failed.ToSql();

    /// <summary>
    /// Claims up to <paramref name="limit"/> due pending rows, oldest first, skipping rows other workers hold and rows
    /// whose post has an earlier unfinished row. Each claimed create gets its rkey now (a TID), before any write,
    /// so every later attempt writes the same record.
    /// </summary>
    public async Task<IReadOnlyList<QueueRow>> ClaimAsync(int limit, DateTimeOffset now, TimeSpan lease, TidGenerator tids, CancellationToken cancellationToken)
    {
        try
        {
            return await ClaimOnceAsync(limit, now, lease, tids, cancellationToken);
        }
        catch (MySqlException ex) when (MySqlErrors.IsConflict(ex))
        {
            // Rolled back: nothing was claimed. The next loop iteration claims again.
            return [];
        }
    }

    private async Task<IReadOnlyList<QueueRow>> ClaimOnceAsync(int limit, DateTimeOffset now, TimeSpan lease, TidGenerator tids, CancellationToken cancellationToken)
    {
        var nowSeconds = now.ToUnixTimeSeconds();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken);

        var candidates = new List<QueueRow>();
        await using (var select = new MySqlCommand($"""
            SELECT id, operation, collection, rkey, record_data, user_did, local_id, attempts, max_attempts
            FROM {tables.Queue} FORCE INDEX (status_next_retry)
            WHERE status = '{Pending}' AND next_retry_at <= @now
            ORDER BY next_retry_at, id
            LIMIT @limit
            FOR UPDATE SKIP LOCKED
            """, connection, transaction))
        {
            select.Parameters.AddWithValue("@now", nowSeconds);
            select.Parameters.AddWithValue("@limit", limit);
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                candidates.Add(new QueueRow(
                    reader.GetInt64(0),
                    QueueSql.ParseOperation(reader.GetString(1)),
                    reader.GetString(2),
                    reader.GetString(3),
                    reader.IsDBNull(4) ? null : reader.GetString(4),
                    reader.GetString(5),
                    reader.IsDBNull(6) ? null : reader.GetInt64(6),
                    reader.GetInt32(7),
                    reader.GetInt32(8)));
            }
        }
        if (candidates.Count == 0)
        {
            await transaction.CommitAsync(cancellationToken);
            return [];
        }

        // Per-post order: a row goes only when it is the oldest unfinished row of its post. This read does not lock,
        // so rows another worker is claiming right now still count (as the pending rows they were).
        // Posts and boards (local_id = forum id) are ordered separately: the key is the row's kind and local_id.
        var firstOfPost = new Dictionary<(bool Board, long LocalId), long>();
        var localIds = candidates.Where(c => c.LocalId is not null).Select(c => c.LocalId!.Value).Distinct().ToList();
        if (localIds.Count > 0)
        {
            await using var order = new MySqlCommand($"""
                SELECT collection = '{ForumLexicon.Board}', local_id, MIN(id) FROM {tables.Queue}
                WHERE local_id IN ({string.Join(',', localIds)}) AND status IN ('{Pending}', '{Processing}')
                GROUP BY collection = '{ForumLexicon.Board}', local_id
                """, connection, transaction);
            await using var reader = await order.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                firstOfPost[(Convert.ToInt64(reader.GetValue(0)) != 0, reader.GetInt64(1))] = reader.GetInt64(2);
            }
        }
        var claimed = candidates
            .Where(c => c.LocalId is not { } post || !firstOfPost.TryGetValue((c.IsBoard, post), out var first) || first == c.Id)
            .Select(c => c with
            {
                Attempts = c.Attempts + 1,
                // A board row may have to create its record whatever its operation (the planner decides): it gets a key too.
                Rkey = (c.Operation == QueueOperation.Create || c.IsBoard) && c.Rkey.Length == 0 ? tids.Next().ToString() : c.Rkey,
            })
            .ToList();
        if (claimed.Count == 0)
        {
            await transaction.CommitAsync(cancellationToken);
            return [];
        }

        var sql = new StringBuilder($"UPDATE {tables.Queue} SET status = '{Processing}', attempts = attempts + 1, next_retry_at = @lease, updated_at = @now, rkey = CASE id");
        await using var update = new MySqlCommand { Connection = connection, Transaction = transaction };
        for (var i = 0; i < claimed.Count; i++)
        {
            sql.Append(" WHEN ").Append(claimed[i].Id).Append(" THEN @k").Append(i);
            update.Parameters.AddWithValue("@k" + i, claimed[i].Rkey);
        }
        sql.Append(" ELSE rkey END WHERE id IN (").Append(string.Join(',', claimed.Select(c => c.Id))).Append($") AND status = '{Pending}'");
        update.CommandText = sql.ToString();
        update.Parameters.AddWithValue("@lease", (now + lease).ToUnixTimeSeconds());
        update.Parameters.AddWithValue("@now", nowSeconds);
        var updated = await update.ExecuteNonQueryAsync(cancellationToken);
        if (updated != claimed.Count)
        {
            throw new InvalidOperationException($"Claimed {claimed.Count} queue rows but updated {updated}: the rows were not locked.");
        }
        await transaction.CommitAsync(cancellationToken);
        return claimed;
    }

    /// <summary>
    /// Records the outcomes of a batch in one transaction. Rows this worker no longer holds (its lease expired and
    /// another worker took them) are left alone. Returns how many outcomes were applied.
    /// </summary>
    public async Task<int> FinishAsync(IReadOnlyList<(QueueRow Row, RowOutcome Outcome)> results, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (results.Count == 0) return 0;
        // Concurrent batches touch neighbouring index entries (atproto_posts' unique at_uri, the queue's status index):
        // InnoDB may pick this transaction as a deadlock victim. It rolled back whole, so it is simply run again.
        return await TransientRetry.RunAsync(ct => FinishOnceAsync(results, now, ct), MySqlErrors.IsConflict,
            new Backoff(ConflictRetryFirst, ConflictRetryMax, jitter: 0.5), time, onRetry: null, cancellationToken, MaxConflictRetries);
    }

    public const int MaxConflictRetries = 8;
    private static readonly TimeSpan ConflictRetryFirst = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan ConflictRetryMax = TimeSpan.FromMilliseconds(500);

    private async Task<int> FinishOnceAsync(IReadOnlyList<(QueueRow Row, RowOutcome Outcome)> results, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var nowSeconds = now.ToUnixTimeSeconds();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken);

        // Fence: lock the rows still held with the attempt count this worker claimed them with.
        var held = new HashSet<long>();
        var fence = new StringBuilder($"SELECT id FROM {tables.Queue} WHERE status = '{Processing}' AND (");
        fence.AppendJoin(" OR ", results.Select(r => $"(id = {r.Row.Id} AND attempts = {r.Row.Attempts})")).Append(") FOR UPDATE");
        await using (var select = new MySqlCommand(fence.ToString(), connection, transaction))
        await using (var reader = await select.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken)) held.Add(reader.GetInt64(0));
        }

        var applied = results.Where(r => held.Contains(r.Row.Id)).ToList();
        var finished = applied.Where(r => r.Outcome is RowOutcome.Done or RowOutcome.Skipped).Select(r => r.Row.Id).ToList();

        await FinishBoardsAsync(connection, transaction, applied, cancellationToken);
        var published = applied
            .Where(r => r is { Outcome: RowOutcome.Done { AtUri: not null }, Row.LocalId: not null, Row.IsBoard: false })
            .Select(r => (r.Row, Done: (RowOutcome.Done)r.Outcome))
            .ToList();
        if (published.Count > 0)
        {
            await using var upsert = new MySqlCommand { Connection = connection, Transaction = transaction };
            // The new values come from a derived table the update clause can name (n.col): VALUES(col) there is
            // deprecated in MySQL 8.0.20+, and the row alias that replaces it (AS new) is not MariaDB's.
            var sql = new StringBuilder($"""
                INSERT INTO {tables.Posts} (post_id, at_uri, at_cid, author_did, is_topic_starter, sync_status, created_at, updated_at)
                SELECT n.post_id, n.at_uri, n.at_cid, n.author_did, n.is_topic_starter, '{Synced}', @now, @now FROM (
                """);
            for (var i = 0; i < published.Count; i++)
            {
                sql.Append(i == 0
                    ? $"SELECT @p{i} AS post_id, @u{i} AS at_uri, @c{i} AS at_cid, @d{i} AS author_did, @t{i} AS is_topic_starter"
                    : $" UNION ALL SELECT @p{i}, @u{i}, @c{i}, @d{i}, @t{i}");
                upsert.Parameters.AddWithValue("@p" + i, published[i].Row.LocalId);
                upsert.Parameters.AddWithValue("@u" + i, published[i].Done.AtUri);
                upsert.Parameters.AddWithValue("@c" + i, published[i].Done.AtCid);
                upsert.Parameters.AddWithValue("@d" + i, published[i].Row.UserDid);
                upsert.Parameters.AddWithValue("@t" + i, published[i].Done.IsTopicStarter);
            }
            sql.Append($") AS n ON DUPLICATE KEY UPDATE at_uri = n.at_uri, at_cid = n.at_cid, author_did = n.author_did, is_topic_starter = n.is_topic_starter, sync_status = '{Synced}', updated_at = @now");
            upsert.CommandText = sql.ToString();
            upsert.Parameters.AddWithValue("@now", nowSeconds);
            await upsert.ExecuteNonQueryAsync(cancellationToken);
        }

        var unpublished = applied
            .Where(r => r is { Outcome: RowOutcome.Done { AtUri: null }, Row.LocalId: not null, Row.Operation: QueueOperation.Delete, Row.IsBoard: false })
            .Select(r => r.Row.LocalId!.Value)
            .ToList();
        if (unpublished.Count > 0)
        {
            await ExecuteAsync(connection, transaction, $"DELETE FROM {tables.Posts} WHERE post_id IN ({string.Join(',', unpublished)})", cancellationToken);
        }

        if (finished.Count > 0)
        {
            await ExecuteAsync(connection, transaction, $"DELETE FROM {tables.Queue} WHERE id IN ({string.Join(',', finished)})", cancellationToken);
        }

        foreach (var (row, outcome) in applied)
        {
            switch (outcome)
            {
                case RowOutcome.Failed failed when row.Attempts >= row.MaxAttempts:
                    await DeadLetterRowAsync(connection, transaction, row, $"{failed.Reason}: {failed.Error}", nowSeconds, cancellationToken);
                    break;
                case RowOutcome.Failed failed:
                    await SetPendingAsync(connection, transaction, row.Id, failed.RetryAt.ToUnixTimeSeconds(), attemptsDelta: 0,
                        $"{failed.Reason}: {failed.Error}", nowSeconds, cancellationToken);
                    break;
                case RowOutcome.Deferred deferred:
                    await SetPendingAsync(connection, transaction, row.Id, deferred.RetryAt.ToUnixTimeSeconds(), attemptsDelta: -1,
                        deferred.Reason, nowSeconds, cancellationToken);
                    break;
                case RowOutcome.Released released:
                    await SetPendingAsync(connection, transaction, row.Id, nowSeconds, attemptsDelta: released.WriteStarted ? 0 : -1, null, nowSeconds,
                        cancellationToken);
                    break;
                case RowOutcome.DeadLetter dead:
                    await DeadLetterRowAsync(connection, transaction, row, $"{dead.Reason}: {dead.Error}", nowSeconds, cancellationToken);
                    break;
            }
        }
        await transaction.CommitAsync(cancellationToken);
        return applied.Count;
    }

    /// <summary>
    /// Board rows written: <c>atproto_forums</c> maps the forum to its record (or forgets it after a delete), and the
    /// children of a rewritten board whose records refer to its old CID are enqueued to be rewritten.
    /// </summary>
    private async Task FinishBoardsAsync(MySqlConnection connection, MySqlTransaction transaction,
        IReadOnlyList<(QueueRow Row, RowOutcome Outcome)> applied, CancellationToken cancellationToken)
    {
        foreach (var (row, outcome) in applied)
        {
            if (row is not { IsBoard: true, LocalId: { } forumId } || outcome is not RowOutcome.Done done) continue;
            await using var command = new MySqlCommand { Connection = connection, Transaction = transaction };
            command.Parameters.AddWithValue("@id", forumId);
            if (done.AtUri is null)
            {
                command.CommandText = $"DELETE FROM {tables.Forums} WHERE forum_id = @id";
            }
            else
            {
                command.CommandText = $"""
                    INSERT INTO {tables.Forums} (forum_id, at_uri, at_cid, slug, parent_cid) VALUES (@id, @uri, @cid, @slug, @parent)
                    ON DUPLICATE KEY UPDATE at_uri = @uri, at_cid = @cid, slug = @slug, parent_cid = @parent
                    """;
                command.Parameters.AddWithValue("@parent", done.ParentCid);
                command.Parameters.AddWithValue("@uri", done.AtUri);
                command.Parameters.AddWithValue("@cid", done.AtCid ?? "");
                command.Parameters.AddWithValue("@slug", done.Slug ?? "");
            }
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        foreach (var group in applied
            .Where(r => r is { Row: { IsBoard: true, LocalId: not null }, Outcome: RowOutcome.Done { AtUri: not null } })
            .GroupBy(r => r.Row.UserDid, StringComparer.Ordinal))
        {
            await Boards.BoardReconciler.EnqueueStaleChildrenAsync(connection, transaction, tables, group.Key,
                group.Select(r => r.Row.LocalId!.Value).Distinct().ToList(), time.GetUtcNow().ToUnixTimeSeconds(), cancellationToken);
        }
    }

    /// <summary>
    /// Dead-letters every pending row of a user (e.g. the refresh token was revoked: the user must sign in again),
    /// without using attempts. Rows other workers are processing right now are left to them.
    /// </summary>
    public async Task<int> DeadLetterUserAsync(string userDid, string reason, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = new MySqlCommand($"""
            UPDATE {tables.Queue} SET status = '{DeadLetter}', last_error = @reason, updated_at = @now
            WHERE user_did = @did AND status = '{Pending}'
            """, connection);
        command.Parameters.AddWithValue("@reason", Truncate(reason));
        command.Parameters.AddWithValue("@now", now.ToUnixTimeSeconds());
        command.Parameters.AddWithValue("@did", userDid);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Rows whose worker's lease ran out (it crashed or hung) go back to <c>pending</c>; the lost attempt counts.</summary>
    public async Task<int> RecoverExpiredLeasesAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        try
        {
            return await RecoverOnceAsync(now, cancellationToken);
        }
        catch (MySqlException ex) when (MySqlErrors.IsConflict(ex))
        {
            return 0; // another worker holds those rows right now; the next iteration looks again
        }
    }

    private async Task<int> RecoverOnceAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken);
        await using var command = new MySqlCommand($"""
            UPDATE {tables.Queue} SET status = '{Pending}', last_error = 'lease expired: the worker holding the row stopped', updated_at = @now
            WHERE status = '{Processing}' AND next_retry_at <= @now
            """, connection, transaction);
        command.Parameters.AddWithValue("@now", now.ToUnixTimeSeconds());
        var recovered = await command.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return recovered;
    }

    /// <summary>Removes dead letters last touched before <paramref name="olderThan"/>.</summary>
    public async Task<int> PurgeDeadLettersAsync(DateTimeOffset olderThan, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = new MySqlCommand(
            $"DELETE FROM {tables.Queue} WHERE status = '{DeadLetter}' AND updated_at < @before", connection);
        command.Parameters.AddWithValue("@before", olderThan.ToUnixTimeSeconds());
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public sealed record Depth(long Pending, long Processing, long DeadLetter);

    public async Task<Depth> CountAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = new MySqlCommand($"SELECT status, COUNT(*) FROM {tables.Queue} GROUP BY status", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        long pending = 0, processing = 0, dead = 0;
        while (await reader.ReadAsync(cancellationToken))
        {
            var count = reader.GetInt64(1);
            switch (QueueSql.ParseStatus(reader.GetString(0)))
            {
                case QueueStatus.Pending: pending = count; break;
                case QueueStatus.Processing: processing = count; break;
                case QueueStatus.DeadLetter: dead = count; break;
            }
        }
        return new Depth(pending, processing, dead);
    }

    private async Task SetPendingAsync(MySqlConnection connection, MySqlTransaction transaction, long id, long retryAt, int attemptsDelta,
        string? error, long nowSeconds, CancellationToken cancellationToken)
    {
        await using var command = new MySqlCommand($"""
            UPDATE {tables.Queue} SET status = '{Pending}', next_retry_at = @retry, attempts = GREATEST(CAST(attempts AS SIGNED) + @delta, 0),
              last_error = COALESCE(@error, last_error), updated_at = @now
            WHERE id = @id
            """, connection, transaction);
        command.Parameters.AddWithValue("@retry", retryAt);
        command.Parameters.AddWithValue("@delta", attemptsDelta);
        command.Parameters.AddWithValue("@error", error is null ? null : Truncate(error));
        command.Parameters.AddWithValue("@now", nowSeconds);
        command.Parameters.AddWithValue("@id", id);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task DeadLetterRowAsync(MySqlConnection connection, MySqlTransaction transaction, QueueRow row, string error, long nowSeconds,
        CancellationToken cancellationToken)
    {
        await using var command = new MySqlCommand($"""
            UPDATE {tables.Queue} SET status = '{DeadLetter}', last_error = @error, updated_at = @now WHERE id = @id
            """, connection, transaction);
        command.Parameters.AddWithValue("@error", Truncate(error));
        command.Parameters.AddWithValue("@now", nowSeconds);
        command.Parameters.AddWithValue("@id", row.Id);
        await command.ExecuteNonQueryAsync(cancellationToken);
        if (row is { LocalId: { } post, Operation: not QueueOperation.Delete, IsBoard: false })
        {
            await using var mark = new MySqlCommand($"""
                INSERT INTO {tables.Posts} (post_id, author_did, sync_status, created_at, updated_at) VALUES (@post, @did, '{FailedStatus}', @now, @now)
                ON DUPLICATE KEY UPDATE sync_status = IF(at_uri IS NULL, '{FailedStatus}', sync_status), updated_at = @now
                """, connection, transaction);
            mark.Parameters.AddWithValue("@post", post);
            mark.Parameters.AddWithValue("@did", row.UserDid);
            mark.Parameters.AddWithValue("@now", nowSeconds);
            await mark.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    private static async Task ExecuteAsync(MySqlConnection connection, MySqlTransaction transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = new MySqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static string Truncate(string text) => text.Length <= MaxErrorLength ? text : text[..MaxErrorLength];
}
