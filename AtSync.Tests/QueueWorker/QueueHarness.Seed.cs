using MySqlConnector;

namespace AtSync.Tests.QueueWorker;

public sealed partial class QueueHarness
{
    /// <summary>
    /// Many topics at once, as phpBB would have written them (the triggers enqueue every post): for each topic a first
    /// post and <paramref name="repliesPerTopic"/> replies, authors taken round-robin from <paramref name="users"/>.
    /// Topic and post ids start after <paramref name="idOffset"/>. Returns the post ids.
    /// </summary>
    public async Task<IReadOnlyList<long>> SeedTopicsAsync(IReadOnlyList<LinkedUser> users, int topics, int repliesPerTopic, long idOffset = 0)
    {
        await using var connection = await Database.OpenAsync();
        var postIds = new List<long>();
        var now = Time.GetUtcNow().ToUnixTimeSeconds();
        var perTopic = repliesPerTopic + 1;
        const int chunk = 100;
        for (var start = 0; start < topics; start += chunk)
        {
            var count = Math.Min(chunk, topics - start);
            var topicRows = new List<string>();
            var postRows = new List<string>();
            for (var t = start; t < start + count; t++)
            {
                var topicId = idOffset + t + 1;
                var firstPost = idOffset * perTopic + (long)t * perTopic + 1;
                var author = users[t % users.Count];
                topicRows.Add($"({topicId}, 1, 'Topic {topicId}', {author.UserId}, {now}, 0, 1, {firstPost}, {firstPost + repliesPerTopic})");
                for (var p = 0; p < perTopic; p++)
                {
                    var postId = firstPost + p;
                    // The first post is the topic author's; replies rotate through the users.
                    var poster = p == 0 ? author : users[(t + p) % users.Count];
                    postRows.Add($"({postId}, {topicId}, 1, {poster.UserId}, {now}, 'Topic {topicId}', '<t>post {postId} of topic {topicId}</t>', 1)");
                    postIds.Add(postId);
                }
            }
            await using (var insertTopics = new MySqlCommand(
                $"INSERT INTO {Tables.PhpbbTopics} (topic_id, forum_id, topic_title, topic_poster, topic_time, topic_type, topic_visibility, topic_first_post_id, topic_last_post_id) VALUES {string.Join(',', topicRows)}",
                connection))
            {
                await insertTopics.ExecuteNonQueryAsync();
            }
            await using var insertPosts = new MySqlCommand(
                $"INSERT INTO {Tables.PhpbbPosts} (post_id, topic_id, forum_id, poster_id, post_time, post_subject, post_text, post_visibility) VALUES {string.Join(',', postRows)}",
                connection);
            await insertPosts.ExecuteNonQueryAsync();
        }
        return postIds;
    }
}
