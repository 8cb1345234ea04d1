using System.Text;
using AtSync.Tests.Infrastructure;
using MySqlConnector;

namespace AtSync.Tests.Firehose.Import;

/// <summary>
/// What the forum shows, as text, without times and surrogate ids: every post (AT-URI, CID, author, topic by its
/// first post's AT-URI, subject, text, visibility; not the edit count: an edit applied later is one, a fresh import has none), every topic's and forum's counters, and the phpBB users
/// of the authors. Two databases that reached the same repository state by different paths compare equal. With
/// <c>visibleOnly</c>, what readers see: visible posts and topics and the approved counters (a forum that once held
/// posts since deleted keeps them soft-deleted, a fresh one never had them).
/// </summary>
public static class ForumContent
{
    public static async Task<string> TakeAsync(TestDatabase database, bool visibleOnly = false)
    {
        var visiblePosts = visibleOnly ? "WHERE p.post_visibility = 1" : "";
        var visibleTopics = visibleOnly ? "WHERE tp.topic_visibility = 1" : "";
        var softDeleted = visibleOnly ? "" : ", tp.topic_posts_softdeleted";
        var forumSoftDeleted = visibleOnly ? "" : ", f.forum_posts_softdeleted, f.forum_topics_softdeleted";
        var t = database.Tables;
        string PostUri(string idColumn) => $"(SELECT ap.at_uri FROM {t.Posts} ap WHERE ap.post_id = {idColumn})";
        var queries = new[]
        {
            $"""
            SELECT ap.at_uri, ap.at_cid, ap.author_did, ap.is_topic_starter, ap.sync_status,
                   (SELECT {PostUri("tp.topic_first_post_id")} FROM {t.PhpbbTopics} tp WHERE tp.topic_id = p.topic_id) AS topic,
                   (SELECT au.did FROM {t.Users} au WHERE au.user_id = p.poster_id) AS poster,
                   p.forum_id, p.post_subject, p.post_text, p.post_checksum, p.post_visibility, p.post_time
            FROM {t.PhpbbPosts} p LEFT JOIN {t.Posts} ap ON ap.post_id = p.post_id {visiblePosts} ORDER BY ap.at_uri
            """,
            $"""
            SELECT {PostUri("tp.topic_first_post_id")} AS first_post, tp.forum_id, tp.topic_title, tp.topic_visibility, tp.topic_posts_approved{softDeleted},
                   {PostUri("tp.topic_last_post_id")} AS last_post, tp.topic_last_post_subject
            FROM {t.PhpbbTopics} tp {visibleTopics} ORDER BY first_post
            """,
            $"""
            SELECT f.forum_id, f.forum_posts_approved, f.forum_topics_approved{forumSoftDeleted}, {PostUri("f.forum_last_post_id")} AS last_post
            FROM {t.PhpbbForums} f ORDER BY f.forum_id
            """,
            $"""
            SELECT au.did, u.username, u.user_posts, u.user_type FROM {t.Users} au JOIN {t.PhpbbUsers} u ON u.user_id = au.user_id ORDER BY au.did
            """,
            $"SELECT at_uri, at_cid FROM {t.ParkedPosts} ORDER BY at_uri",
        };
        var text = new StringBuilder();
        await using var connection = await database.OpenAsync();
        foreach (var sql in queries)
        {
            text.AppendLine("##");
            await using var command = new MySqlCommand(sql, connection);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                for (var i = 0; i < reader.FieldCount; i++)
                {
                    if (i > 0) text.Append(" | ");
                    text.Append(reader.IsDBNull(i) ? "NULL" : Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture));
                }
                text.AppendLine();
            }
        }
        return text.ToString();
    }
}
