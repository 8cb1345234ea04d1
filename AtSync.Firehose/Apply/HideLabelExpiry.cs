using AtSync.Core.Forum;
using AtSync.Core.Storage;
using AtSync.Firehose.Apply.Appliers;
using AtSync.Firehose.Apply.Mappings;
using AtSync.Firehose.Apply.Phpbb;
using MySqlConnector;

namespace AtSync.Firehose.Apply;

/// <summary>
/// Posts still hidden by a <c>!hide</c> label that has expired since it was applied become visible again (counters
/// moved back), each in its own transaction.
/// </summary>
public sealed class HideLabelExpiry(MySqlDataSource dataSource, AtSyncTables tables, FirehoseIdentity identity)
{
    /// <summary>Returns how many posts changed.</summary>
    public async Task<int> ExpireAsync(long now, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        // Posts the Firehose writes came from the network: the outbox triggers must not publish them back.
        await OutboxOrigin.MarkSessionAsync(connection, OutboxOrigin.Firehose, ct);
        var candidates = new List<uint>();
        await using (var find = new MySqlCommand($"""
            SELECT DISTINCT ap.post_id FROM {tables.Labels} l
            JOIN {tables.Posts} ap ON ap.at_uri = l.subject_uri
            JOIN {tables.PhpbbPosts} p ON p.post_id = ap.post_id
            WHERE l.label_value = '{ModerationLabels.Hide}' AND l.label_src = @src AND l.negated = 0
              AND l.expires_at IS NOT NULL AND l.expires_at <= @now AND p.post_visibility = {PhpbbConstants.ItemDeleted}
              AND ap.sync_status <> '{SyncStatus.Deleted.ToSql()}'
            """, connection))
        {
            find.Parameters.AddWithValue("@src", identity.LabelerDid);
            find.Parameters.AddWithValue("@now", now);
            await using var reader = await find.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct)) candidates.Add(reader.UInt32At(0));
        }
        var changed = 0;
        foreach (var postId in candidates)
        {
            await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.ReadCommitted, ct);
            var session = new ForumSession(connection, transaction, tables);
            var visibility = new PostVisibility(new PostMap(session), new LabelRows(session), new PhpbbVisibility(session), identity.LabelerDid);
            if (await visibility.UpdateAsync(postId, now, ct)) changed++;
            await transaction.CommitAsync(ct);
        }
        return changed;
    }
}
