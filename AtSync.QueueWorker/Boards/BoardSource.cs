using AtSync.Core.Forum;
using AtSync.Core.Storage;
using MySqlConnector;

namespace AtSync.QueueWorker.Boards;

/// <summary>What one batch's board rows need: the phpBB forums (absent when deleted) and their current mappings.</summary>
public sealed record BoardContext(IReadOnlyDictionary<long, PhpbbForum> Forums, IReadOnlyDictionary<long, StrongRef> Mappings)
{
    public static readonly BoardContext Empty = new(new Dictionary<long, PhpbbForum>(), new Dictionary<long, StrongRef>());
}

/// <summary>Reads phpBB's forums and <c>atproto_forums</c> for the batch's board rows, in two queries.</summary>
public sealed class BoardSource(MySqlDataSource dataSource, AtSyncTables tables)
{
    public async Task<BoardContext> LoadAsync(IReadOnlyCollection<long> forumIds, CancellationToken cancellationToken)
    {
        if (forumIds.Count == 0) return BoardContext.Empty;
        var ids = string.Join(',', forumIds);
        var forums = new Dictionary<long, PhpbbForum>();
        var mappings = new Dictionary<long, StrongRef>();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using (var command = new MySqlCommand($"""
            SELECT forum_id, forum_name, forum_desc, forum_desc_uid, forum_rules, forum_rules_uid, forum_type, forum_status, left_id
            FROM {tables.PhpbbForums} WHERE forum_id IN ({ids})
            """, connection))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var forum = new PhpbbForum(Convert.ToInt64(reader.GetValue(0)), reader.GetString(1), reader.GetString(2), reader.GetString(3),
                    reader.GetString(4), reader.GetString(5), Convert.ToInt32(reader.GetValue(6)), Convert.ToInt32(reader.GetValue(7)),
                    Convert.ToInt64(reader.GetValue(8)));
                forums[forum.ForumId] = forum;
            }
        }
        await using (var command = new MySqlCommand($"SELECT forum_id, at_uri, at_cid FROM {tables.Forums} WHERE forum_id IN ({ids})", connection))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                mappings[Convert.ToInt64(reader.GetValue(0))] = new StrongRef(reader.GetString(1), reader.GetString(2));
            }
        }
        return new BoardContext(forums, mappings);
    }
}
