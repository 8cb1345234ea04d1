using System.Text;
using AtSync.Tests.Infrastructure;
using MySqlConnector;

namespace AtSync.Tests.Firehose;

/// <summary>
/// The content of every table the Firehose writes, as text, for comparing two databases. Leaves out the cursor rows'
/// wall-clock <c>updated_at</c>.
/// </summary>
public static class DatabaseSnapshot
{
    /// <summary>
    /// The logical content: every surrogate id (user, topic, post) replaced by what identifies the row on the network
    /// (DID, AT-URI of the post or of the topic's first post), so two databases that applied the same events compare
    /// equal even when a crash left gaps in auto-increment sequences (rolled-back inserts consume ids).
    /// </summary>
    public static async Task<string> TakeAsync(TestDatabase database)
    {
        var t = database.Tables;
        string PostUri(string idColumn) => $"(SELECT ap.at_uri FROM {t.Posts} ap WHERE ap.post_id = {idColumn})";
        string UserKey(string idColumn) => $"COALESCE((SELECT au.did FROM {t.Users} au WHERE au.user_id = {idColumn}), CONCAT('local:', {idColumn}))";
        var queries = new (string Table, string Sql)[]
        {
            ("users", $"""
                SELECT {UserKey("u.user_id")} AS user_key, u.username, u.username_clean, u.user_type, u.user_inactive_reason, u.user_inactive_time,
                       u.user_posts, u.user_lastpost_time, u.user_regdate, u.group_id
                FROM {t.PhpbbUsers} u ORDER BY user_key
                """),
            ("forums", $"""
                SELECT f.forum_id, f.forum_posts_approved, f.forum_posts_softdeleted, f.forum_posts_unapproved, f.forum_topics_approved,
                       f.forum_topics_softdeleted, f.forum_topics_unapproved, {PostUri("f.forum_last_post_id")} AS last_post,
                       {UserKey("f.forum_last_poster_id")} AS last_poster, f.forum_last_post_subject, f.forum_last_post_time, f.forum_last_poster_name
                FROM {t.PhpbbForums} f ORDER BY f.forum_id
                """),
            ("topics", $"""
                SELECT {PostUri("tp.topic_first_post_id")} AS first_post, tp.forum_id, tp.topic_title, {UserKey("tp.topic_poster")} AS poster, tp.topic_time,
                       tp.topic_type, tp.topic_visibility, tp.topic_posts_approved, tp.topic_posts_softdeleted, tp.topic_posts_unapproved,
                       tp.topic_first_poster_name, {PostUri("tp.topic_last_post_id")} AS last_post, {UserKey("tp.topic_last_poster_id")} AS last_poster,
                       tp.topic_last_poster_name, tp.topic_last_post_subject, tp.topic_last_post_time, tp.topic_delete_time, {UserKey("tp.topic_delete_user")} AS delete_user
                FROM {t.PhpbbTopics} tp ORDER BY first_post
                """),
            ("posts", $"""
                SELECT ap.at_uri, ap.at_cid, ap.author_did, ap.is_topic_starter, ap.sync_status, ap.created_at, ap.updated_at,
                       (SELECT {PostUri("tp.topic_first_post_id")} FROM {t.PhpbbTopics} tp WHERE tp.topic_id = p.topic_id) AS topic,
                       p.forum_id, {UserKey("p.poster_id")} AS poster, p.post_time, p.post_subject, p.post_text, p.post_checksum, p.post_visibility,
                       p.post_edit_time, p.post_edit_count, p.post_delete_time, p.post_delete_reason, p.enable_bbcode, p.enable_smilies, p.enable_sig
                FROM {t.PhpbbPosts} p LEFT JOIN {t.Posts} ap ON ap.post_id = p.post_id ORDER BY ap.at_uri
                """),
            ("atproto_users", $"SELECT did, handle, pds_url, created_at, updated_at FROM {t.Users} ORDER BY did"),
            ("atproto_parked", $"SELECT * FROM {t.ParkedPosts} ORDER BY at_uri"),
            ("atproto_revs", $"SELECT * FROM {t.RecordRevisions} ORDER BY at_uri"),
            ("atproto_accounts", $"SELECT * FROM {t.Accounts} ORDER BY did"),
            ("atproto_labels", $"SELECT subject_uri, label_value, label_src, subject_cid, negated, expires_at FROM {t.Labels} ORDER BY subject_uri, label_value, label_src"),
            ("cursors", $"SELECT service, cursor_value FROM {t.Cursors} ORDER BY service"),
        };
        var text = new StringBuilder();
        await using var connection = await database.OpenAsync();
        foreach (var (table, sql) in queries)
        {
            text.Append("## ").AppendLine(table);
            await using var command = new MySqlCommand(sql, connection);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                for (var i = 0; i < reader.FieldCount; i++)
                {
                    if (i > 0) text.Append(" | ");
                    text.Append(reader.GetName(i)).Append('=').Append(reader.IsDBNull(i) ? "NULL" : Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture));
                }
                text.AppendLine();
            }
        }
        return text.ToString();
    }

    public static async Task<long> CountAsync(TestDatabase database, string table) =>
        await database.ScalarAsync<long>($"SELECT COUNT(*) FROM {table}");
}
