using System.Collections.Concurrent;
using AtSync.Core.Forum;
using AtSync.Core.Storage;
using MySqlConnector;

namespace AtSync.QueueWorker.Boards;

/// <summary>
/// What one batch's board rows need: the phpBB forums (absent when deleted) and the current mappings of them and of
/// their parents. <see cref="PublishedNow"/>: boards written earlier in this batch (a parent before its children).
/// </summary>
public sealed record BoardContext(IReadOnlyDictionary<long, PhpbbForum> Forums, IReadOnlyDictionary<long, StrongRef> Mappings)
{
    public ConcurrentDictionary<long, StrongRef> PublishedNow { get; } = new();

    /// <summary>The strong ref of forum <paramref name="forumId"/>'s board as it is now, or null when it has no record yet.</summary>
    public StrongRef? CurrentRef(long forumId) =>
        PublishedNow.TryGetValue(forumId, out var now) ? now : Mappings.TryGetValue(forumId, out var mapped) ? mapped : null;

    public static readonly BoardContext Empty = new(new Dictionary<long, PhpbbForum>(), new Dictionary<long, StrongRef>());
}

/// <summary>Reads phpBB's forums and <c>atproto_forums</c> (theirs and their parents') for the batch's board rows, in two queries.</summary>
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
            SELECT f.forum_id, f.forum_name, f.forum_desc, f.forum_desc_uid, f.forum_rules, f.forum_rules_uid, f.forum_type, f.forum_status, f.left_id,
                   COALESCE(p.forum_id, 0), f.forum_link
            FROM {tables.PhpbbForums} f LEFT JOIN {tables.PhpbbForums} p ON p.forum_id = f.parent_id AND f.parent_id <> f.forum_id
            WHERE f.forum_id IN ({ids})
            """, connection))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var forum = new PhpbbForum(Convert.ToInt64(reader.GetValue(0)), reader.GetString(1), reader.GetString(2), reader.GetString(3),
                    reader.GetString(4), reader.GetString(5), Convert.ToInt32(reader.GetValue(6)), Convert.ToInt32(reader.GetValue(7)),
                    Convert.ToInt64(reader.GetValue(8)), Convert.ToInt64(reader.GetValue(9)), reader.GetString(10));
                forums[forum.ForumId] = forum;
            }
        }
        var withParents = string.Join(',', forumIds.Concat(forums.Values.Where(f => f.ParentId != 0).Select(f => f.ParentId)).Distinct());
        await using (var command = new MySqlCommand($"SELECT forum_id, at_uri, at_cid FROM {tables.Forums} WHERE forum_id IN ({withParents})", connection))
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
