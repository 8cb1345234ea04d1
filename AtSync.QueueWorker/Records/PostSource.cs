using AtSync.Core.Forum;
using AtSync.Core.Storage;
using MySqlConnector;

namespace AtSync.QueueWorker.Records;

/// <summary>A phpBB post with what its record needs from its topic.</summary>
public sealed record PhpbbPost(
    long PostId, long TopicId, long ForumId, long PosterId, long PostTime, string Subject, string Text, string BbcodeUid,
    bool EnableBbcode, bool EnableSmilies, bool EnableSignature, int Visibility, long TopicFirstPostId, int TopicType)
{
    public bool IsTopicStarter => PostId == TopicFirstPostId;
}

/// <summary>Everything one batch needs from phpBB's and AtSync's tables, read in a few queries.</summary>
public sealed record BatchContext(
    IReadOnlyDictionary<long, PhpbbPost> Posts,
    IReadOnlyDictionary<long, StrongRef> Published,
    IReadOnlyDictionary<long, StrongRef> Forums,
    IReadOnlySet<long> QueuedPosts);

public sealed class PostSource(MySqlDataSource dataSource, AtSyncTables tables)
{
    /// <param name="postIds">Posts of the batch's rows.</param>
    /// <param name="batchRowIds">The batch's queue rows (not counted as "still queued").</param>
    public async Task<BatchContext> LoadAsync(IReadOnlyCollection<long> postIds, IReadOnlyCollection<long> batchRowIds, CancellationToken cancellationToken)
    {
        var posts = new Dictionary<long, PhpbbPost>();
        var published = new Dictionary<long, StrongRef>();
        var forums = new Dictionary<long, StrongRef>();
        var queued = new HashSet<long>();
        if (postIds.Count == 0) return new BatchContext(posts, published, forums, queued);

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using (var command = new MySqlCommand($"""
            SELECT p.post_id, p.topic_id, p.forum_id, p.poster_id, p.post_time, p.post_subject, p.post_text, p.bbcode_uid,
                   p.enable_bbcode, p.enable_smilies, p.enable_sig, p.post_visibility, t.topic_first_post_id, t.topic_type
            FROM {tables.PhpbbPosts} p JOIN {tables.PhpbbTopics} t ON t.topic_id = p.topic_id
            WHERE p.post_id IN ({string.Join(',', postIds)})
            """, connection))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var post = new PhpbbPost(
                    Convert.ToInt64(reader.GetValue(0)), Convert.ToInt64(reader.GetValue(1)), Convert.ToInt64(reader.GetValue(2)),
                    Convert.ToInt64(reader.GetValue(3)), Convert.ToInt64(reader.GetValue(4)), reader.GetString(5), reader.GetString(6),
                    reader.GetString(7), Convert.ToInt32(reader.GetValue(8)) != 0, Convert.ToInt32(reader.GetValue(9)) != 0,
                    Convert.ToInt32(reader.GetValue(10)) != 0, Convert.ToInt32(reader.GetValue(11)), Convert.ToInt64(reader.GetValue(12)),
                    Convert.ToInt32(reader.GetValue(13)));
                posts[post.PostId] = post;
            }
        }

        var refIds = postIds.Concat(posts.Values.Select(p => p.TopicFirstPostId)).Distinct().ToList();
        await using (var command = new MySqlCommand(
            $"SELECT post_id, at_uri, at_cid FROM {tables.Posts} WHERE post_id IN ({string.Join(',', refIds)}) AND at_uri IS NOT NULL AND at_cid IS NOT NULL",
            connection))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                published[Convert.ToInt64(reader.GetValue(0))] = new StrongRef(reader.GetString(1), reader.GetString(2));
            }
        }

        var forumIds = posts.Values.Select(p => p.ForumId).Distinct().ToList();
        if (forumIds.Count > 0)
        {
            await using var command = new MySqlCommand(
                $"SELECT forum_id, at_uri, at_cid FROM {tables.Forums} WHERE forum_id IN ({string.Join(',', forumIds)})", connection);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                forums[Convert.ToInt64(reader.GetValue(0))] = new StrongRef(reader.GetString(1), reader.GetString(2));
            }
        }

        var unpublishedRoots = posts.Values.Where(p => !p.IsTopicStarter && !published.ContainsKey(p.TopicFirstPostId))
            .Select(p => p.TopicFirstPostId).Distinct().ToList();
        if (unpublishedRoots.Count > 0)
        {
            await using var command = new MySqlCommand($"""
                SELECT DISTINCT local_id FROM {tables.Queue}
                WHERE local_id IN ({string.Join(',', unpublishedRoots)}) AND collection <> '{ForumLexicon.Board}'
                  AND status IN ('{QueueStatus.Pending.ToSql()}', '{QueueStatus.Processing.ToSql()}')
                  AND id NOT IN ({string.Join(',', batchRowIds.DefaultIfEmpty(0))})
                """, connection);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken)) queued.Add(Convert.ToInt64(reader.GetValue(0)));
        }
        return new BatchContext(posts, published, forums, queued);
    }
}
