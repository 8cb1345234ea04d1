using AtSync.Core.Tokens;
using MySqlConnector;

namespace AtSync.Tests.Infrastructure;

/// <summary>
/// Rows as phpBB and AtSync's linking leave them, seeded into a test database: a phpBB user linked to an AT account
/// (legacy session, tokens sealed with the given cipher) and a new topic as phpBB's <c>submit_post</c> writes it (the
/// outbox triggers queue its post). One home for the queue tests (<c>QueueHarness</c>) and the AppHost's existing forum.
/// </summary>
public static class PhpbbSeed
{
    /// <summary>A linked user's AT session as the PDS issued it.</summary>
    public sealed record Session(string Did, string Access, string Refresh, DateTimeOffset? Expires);

    /// <summary>The test DID for a phpBB user id (32 characters, like a did:plc).</summary>
    public static string UserDid(long userId) => $"did:plc:user{userId:D4}aaaaaaaaaaaaaaaaaaa";

    /// <summary>A phpBB user (<c>u&lt;id&gt;</c>) with an <c>atproto_users</c> row for <paramref name="session"/> on <paramref name="pds"/>.</summary>
    public static async Task LinkUserAsync(TestDatabase database, long userId, Session session, Uri pds, TokenCipher cipher)
    {
        var tables = database.Tables;
        await using var connection = await database.OpenAsync();
        await using (var user = new MySqlCommand($"INSERT INTO {tables.PhpbbUsers} (user_id, username, username_clean, user_permissions, user_sig) VALUES (@id, @name, @name, '', '')", connection))
        {
            user.Parameters.AddWithValue("@id", userId);
            user.Parameters.AddWithValue("@name", $"u{userId}");
            await user.ExecuteNonQueryAsync();
        }
        await using var link = new MySqlCommand($"""
            INSERT INTO {tables.Users} (user_id, did, handle, pds_url, access_token, refresh_token, token_expires_at, created_at, updated_at)
            VALUES (@id, @did, @handle, @pds, @access, @refresh, @expires, 0, 0)
            """, connection);
        link.Parameters.AddWithValue("@id", userId);
        link.Parameters.AddWithValue("@did", session.Did);
        link.Parameters.AddWithValue("@handle", $"u{userId}.test");
        link.Parameters.AddWithValue("@pds", pds.ToString());
        link.Parameters.AddWithValue("@access", cipher.Encrypt(session.Access));
        link.Parameters.AddWithValue("@refresh", cipher.Encrypt(session.Refresh));
        link.Parameters.AddWithValue("@expires", session.Expires?.ToUnixTimeSeconds());
        await link.ExecuteNonQueryAsync();
    }

    /// <summary>A new topic in <paramref name="forumId"/>: the topic, its first post, then the topic's first/last post ids.</summary>
    public static async Task<(long TopicId, long PostId)> PostTopicAsync(TestDatabase database, long forumId, long userId, string subject, string text,
        long time, int topicType = 0, string bbcodeUid = "")
    {
        var tables = database.Tables;
        await using var connection = await database.OpenAsync();
        long topicId;
        await using (var topic = new MySqlCommand($"""
            INSERT INTO {tables.PhpbbTopics} (forum_id, topic_title, topic_poster, topic_time, topic_type, topic_visibility)
            VALUES (@forum, @subject, @user, @time, @type, 1)
            """, connection))
        {
            topic.Parameters.AddWithValue("@forum", forumId);
            topic.Parameters.AddWithValue("@subject", subject);
            topic.Parameters.AddWithValue("@user", userId);
            topic.Parameters.AddWithValue("@time", time);
            topic.Parameters.AddWithValue("@type", topicType);
            await topic.ExecuteNonQueryAsync();
            topicId = topic.LastInsertedId;
        }
        var postId = await InsertPostAsync(connection, database, topicId, forumId, userId, subject, text, time, bbcodeUid);
        await using (var first = new MySqlCommand($"UPDATE {tables.PhpbbTopics} SET topic_first_post_id = @p, topic_last_post_id = @p WHERE topic_id = @t", connection))
        {
            first.Parameters.AddWithValue("@p", postId);
            first.Parameters.AddWithValue("@t", topicId);
            await first.ExecuteNonQueryAsync();
        }
        return (topicId, postId);
    }

    /// <summary>A visible post in an existing topic.</summary>
    public static async Task<long> PostReplyAsync(TestDatabase database, long topicId, long forumId, long userId, string subject, string text, long time)
    {
        await using var connection = await database.OpenAsync();
        return await InsertPostAsync(connection, database, topicId, forumId, userId, subject, text, time, "");
    }

    private static async Task<long> InsertPostAsync(MySqlConnection connection, TestDatabase database, long topicId, long forumId, long userId,
        string subject, string text, long time, string bbcodeUid)
    {
        await using var post = new MySqlCommand($"""
            INSERT INTO {database.Tables.PhpbbPosts} (topic_id, forum_id, poster_id, post_time, post_subject, post_text, bbcode_uid, post_visibility)
            VALUES (@t, @f, @u, @time, @subject, @text, @uid, 1)
            """, connection);
        post.Parameters.AddWithValue("@t", topicId);
        post.Parameters.AddWithValue("@f", forumId);
        post.Parameters.AddWithValue("@u", userId);
        post.Parameters.AddWithValue("@time", time);
        post.Parameters.AddWithValue("@subject", subject);
        post.Parameters.AddWithValue("@text", text);
        post.Parameters.AddWithValue("@uid", bbcodeUid);
        await post.ExecuteNonQueryAsync();
        return post.LastInsertedId;
    }
}
