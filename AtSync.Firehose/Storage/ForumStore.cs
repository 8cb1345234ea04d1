using System.Globalization;
using AtSync.Core.Forum;
using AtSync.Core.Storage;
using AtSync.Firehose.Events;
using MySqlConnector;

namespace AtSync.Firehose.Storage;

/// <summary>
/// The Firehose's database side: reads a stream's cursor, and writes a batch of events plus the stream's new cursor
/// in one transaction, so a crash at any moment leaves either both or neither.
/// </summary>
public sealed class ForumStore(MySqlDataSource dataSource, AtSyncTables tables, FirehoseIdentity identity, HandleDirectory handles, ForumCommitSignatures signatures)
{
    public AtSyncTables Tables => tables;

    public async Task<long?> LoadCursorAsync(string service, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var command = new MySqlCommand($"SELECT cursor_value FROM {tables.Cursors} WHERE service = @service", connection);
        command.Parameters.AddWithValue("@service", service);
        var value = await command.ExecuteScalarAsync(ct).ConfigureAwait(false);
        return value is null or DBNull ? null : Convert.ToInt64(value, CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Outside any transaction: sets aside commits whose signature does not verify (their forum ops are counted as
    /// skipped; the batch's cursor still covers them), then resolves the handles of authors who may become new phpBB users.
    /// </summary>
    public async Task<PreparedBatch> PrepareAsync(IReadOnlyList<StreamEvent> events, CancellationToken ct)
    {
        var skipped = new BatchOutcome();
        var rejected = await signatures.RejectedAsync(events, ct).ConfigureAwait(false);
        if (rejected.Count > 0)
        {
            var kept = new List<StreamEvent>(events.Count);
            foreach (var streamEvent in events)
            {
                if (streamEvent is CommitEvent commit && rejected.TryGetValue(commit.SeqNumber, out var reason))
                {
                    skipped.Skipped[reason] = skipped.Skipped.GetValueOrDefault(reason) + commit.ForumOps.Count;
                    continue;
                }
                kept.Add(streamEvent);
            }
            events = kept;
        }
        var dids = events.OfType<CommitEvent>()
            .Where(c => c.ForumOps.Any(op => op.Action != ForumOp.Delete && op.Post is not null))
            .Select(c => c.Repo)
            .Distinct(StringComparer.Ordinal)
            .ToList();
        if (dids.Count > 0) await handles.PrefetchAsync(dids, ct).ConfigureAwait(false);
        return new PreparedBatch(events, skipped);
    }

    /// <summary>Applies <paramref name="events"/> in order and sets the cursor of <paramref name="service"/>; one transaction.</summary>
    public async Task<BatchOutcome> ApplyAsync(string service, IReadOnlyList<StreamEvent> events, long cursor, long now, CancellationToken ct)
    {
        var outcome = new BatchOutcome();
        await using var connection = await dataSource.OpenConnectionAsync(ct).ConfigureAwait(false);
        // Posts the Firehose writes came from the network: the outbox triggers must not publish them back.
        await OutboxOrigin.MarkSessionAsync(connection, OutboxOrigin.Firehose, ct).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.ReadCommitted, ct).ConfigureAwait(false);
        var writer = new ForumTransaction(connection, transaction, tables, outcome, identity.LabelerDid, handles.Known);
        foreach (var streamEvent in events)
        {
            await writer.ApplyAsync(streamEvent, ct).ConfigureAwait(false);
        }
        await writer.SaveCursorAsync(service, cursor, now, ct).ConfigureAwait(false);
        await transaction.CommitAsync(ct).ConfigureAwait(false);
        return outcome;
    }

    /// <summary>
    /// Posts still hidden by a <c>!hide</c> label that has expired since it was applied become visible again
    /// (counters moved back). Returns how many changed.
    /// </summary>
    public async Task<int> ExpireHideLabelsAsync(long now, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct).ConfigureAwait(false);
        // Posts the Firehose writes came from the network: the outbox triggers must not publish them back.
        await OutboxOrigin.MarkSessionAsync(connection, OutboxOrigin.Firehose, ct).ConfigureAwait(false);
        var candidates = new List<uint>();
        await using (var find = new MySqlCommand($"""
            SELECT DISTINCT ap.post_id FROM {tables.Labels} l
            JOIN {tables.Posts} ap ON ap.at_uri = l.subject_uri
            JOIN {tables.PhpbbPosts} p ON p.post_id = ap.post_id
            WHERE l.label_value = '{ModerationLabels.Hide}' AND l.label_src = @src AND l.negated = 0
              AND l.expires_at IS NOT NULL AND l.expires_at <= @now AND p.post_visibility = {PhpbbConstants.ItemDeleted} AND ap.sync_status <> '{SyncStatus.Deleted.ToSql()}'
            """, connection))
        {
            find.Parameters.AddWithValue("@src", identity.LabelerDid);
            find.Parameters.AddWithValue("@now", now);
            await using var reader = await find.ExecuteReaderAsync(ct).ConfigureAwait(false);
            while (await reader.ReadAsync(ct).ConfigureAwait(false)) candidates.Add(Convert.ToUInt32(reader.GetValue(0), CultureInfo.InvariantCulture));
        }
        var changed = 0;
        foreach (var postId in candidates)
        {
            await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.ReadCommitted, ct).ConfigureAwait(false);
            var writer = new ForumTransaction(connection, transaction, tables, new BatchOutcome(), identity.LabelerDid, handles.Known);
            if (await writer.UpdateVisibilityAsync(postId, now, ct).ConfigureAwait(false)) changed++;
            await transaction.CommitAsync(ct).ConfigureAwait(false);
        }
        return changed;
    }

    /// <summary>Errors worth retrying the same batch for: lost connections, deadlocks, lock waits, server gone.</summary>
    public static bool IsTransient(Exception exception) => exception switch
    {
        MySqlException mysql => mysql.IsTransient
            || mysql.ErrorCode is MySqlErrorCode.LockDeadlock or MySqlErrorCode.LockWaitTimeout
                or MySqlErrorCode.UnableToConnectToHost or MySqlErrorCode.CommandTimeoutExpired
                or MySqlErrorCode.ServerShutdown or MySqlErrorCode.QueryInterrupted
            || (int)mysql.ErrorCode is 2006 or 2013,
        InvalidOperationException or System.Net.Sockets.SocketException or IOException or TimeoutException => true,
        _ => false,
    };
}

/// <summary>The events of a batch to apply, and what was set aside before the transaction (recorded after it commits).</summary>
public sealed record PreparedBatch(IReadOnlyList<StreamEvent> Events, BatchOutcome SetAside);

/// <summary>Whose labels count.</summary>
public sealed record FirehoseIdentity(string ForumDid, string LabelerDid);
