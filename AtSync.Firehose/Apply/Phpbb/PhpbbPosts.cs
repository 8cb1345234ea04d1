using AtSync.Core.Forum;
using AtSync.Core.Forum.Text;

namespace AtSync.Firehose.Apply.Phpbb;

/// <summary>A phpBB user as a post's poster fields need it.</summary>
internal sealed record PhpbbUser(uint UserId, string Username, string Colour);

/// <summary>Where a phpBB post is: its topic, forum and poster.</summary>
internal readonly record struct PostLocation(uint TopicId, uint ForumId, uint PosterId);

/// <summary>A post to submit into <see cref="TopicId"/>, or as a new topic's first post when that is null.</summary>
internal sealed record NewPost(uint ForumId, uint? TopicId, PhpbbUser Poster, long Time, ForumPostRecord Record)
{
    public bool StartsTopic => TopicId is null;
}

/// <summary>The rows a submitted post got.</summary>
internal readonly record struct SubmittedPost(uint TopicId, uint PostId);

/// <summary>
/// phpBB 3.3's <c>submit_post</c> and the text part of <c>edit_post</c> for posts that come from the network: the post
/// row, the topic's first/last post fields and counters, the poster's post count, the forum's counters and last post.
/// </summary>
internal sealed class PhpbbPosts(ForumSession db)
{
    /// <summary>The subject as phpBB stores it (escaped, characters outside the BMP as references, cut as phpBB counts).</summary>
    public static string Subject(ForumPostRecord record) => PhpbbColumnText.Subject(record.Subject ?? "");

    public async Task<SubmittedPost> SubmitAsync(NewPost post, CancellationToken ct)
    {
        var t = db.Tables;
        var record = post.Record;
        var subject = Subject(record);
        var topicId = post.TopicId ?? await InsertTopicAsync(post, subject, ct);

        uint postId;
        await using (var insert = db.Command($"""
            INSERT INTO {t.PhpbbPosts} (topic_id, forum_id, poster_id, poster_ip, post_time, enable_bbcode, enable_smilies, enable_magic_url,
              enable_sig, post_username, post_subject, post_text, post_checksum, post_postcount, post_visibility)
            VALUES (@topic, @forum, @poster, '', @time, @bbcode, @smilies, 1, @sig, '', @subject, @text, @checksum, 1, {PhpbbConstants.ItemApproved})
            """,
            ("@topic", topicId), ("@forum", post.ForumId), ("@poster", post.Poster.UserId), ("@time", post.Time),
            ("@bbcode", record.EnableBbcode ? 1 : 0), ("@smilies", record.EnableSmilies ? 1 : 0), ("@sig", record.EnableSignature ? 1 : 0),
            ("@subject", subject), ("@text", PhpbbText.FromRecordText(record.Text)), ("@checksum", PhpbbText.Checksum(record.Text))))
        {
            await insert.ExecuteNonQueryAsync(ct);
            postId = checked((uint)insert.LastInsertedId);
        }

        // submit_post: topic first/last post fields and counters, the poster's count, the forum's counters and last post.
        await db.ExecuteAsync($"""
            UPDATE {t.PhpbbTopics} SET
              topic_first_post_id = IF(@starter, @post, topic_first_post_id),
              topic_posts_approved = topic_posts_approved + IF(@starter, 0, 1),
              topic_last_post_id = @post, topic_last_poster_id = @poster, topic_last_poster_name = @name,
              topic_last_poster_colour = @colour, topic_last_post_subject = @subject, topic_last_post_time = @time,
              topic_last_view_time = @time, topic_bumped = 0, topic_bumper = 0
            WHERE topic_id = @topic;
            UPDATE {t.PhpbbUsers} SET user_lastpost_time = @time, user_posts = user_posts + 1 WHERE user_id = @poster;
            UPDATE {t.PhpbbForums} SET
              forum_topics_approved = forum_topics_approved + IF(@starter, 1, 0),
              forum_posts_approved = forum_posts_approved + 1,
              forum_last_post_id = @post, forum_last_poster_id = @poster, forum_last_post_subject = @subject,
              forum_last_post_time = @time, forum_last_poster_name = @name, forum_last_poster_colour = @colour
            WHERE forum_id = @forum;
            """, ct,
            ("@starter", post.StartsTopic), ("@post", postId), ("@poster", post.Poster.UserId), ("@name", post.Poster.Username),
            ("@colour", post.Poster.Colour), ("@subject", subject), ("@time", post.Time), ("@topic", topicId), ("@forum", post.ForumId));
        return new SubmittedPost(topicId, postId);
    }

    private async Task<uint> InsertTopicAsync(NewPost post, string subject, CancellationToken ct)
    {
        await using var insert = db.Command($"""
            INSERT INTO {db.Tables.PhpbbTopics} (forum_id, topic_title, topic_poster, topic_time, topic_last_view_time, topic_posts_approved,
              topic_visibility, topic_first_poster_name, topic_first_poster_colour, topic_type, topic_status)
            VALUES (@forum, @subject, @poster, @time, @time, 1, {PhpbbConstants.ItemApproved}, @name, @colour, @type, 0)
            """,
            ("@forum", post.ForumId), ("@subject", subject), ("@poster", post.Poster.UserId), ("@time", post.Time),
            ("@name", post.Poster.Username), ("@colour", post.Poster.Colour), ("@type", ForumTopicType.ToPhpbb(post.Record.TopicType)));
        await insert.ExecuteNonQueryAsync(ct);
        return checked((uint)insert.LastInsertedId);
    }

    /// <summary>The post's topic, forum and poster, locked for this transaction; null when the post is gone.</summary>
    public async Task<PostLocation?> LockAsync(uint postId, CancellationToken ct)
    {
        await using var read = db.Command($"SELECT topic_id, forum_id, poster_id FROM {db.Tables.PhpbbPosts} WHERE post_id = @id FOR UPDATE", ("@id", postId));
        await using var reader = await read.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct)) return null;
        return new PostLocation(reader.UInt32At(0), reader.UInt32At(1), reader.UInt32At(2));
    }

    /// <summary>
    /// An edit by the poster: text, checksum, switches, edit time and count; a new subject also renames the topic when
    /// this is its first post (<c>edit_first_post</c>) and follows into the last-post subjects.
    /// </summary>
    public async Task EditAsync(uint postId, PostLocation location, ForumPostRecord record, long time, CancellationToken ct)
    {
        var t = db.Tables;
        var subject = Subject(record);
        await db.ExecuteAsync($"""
            UPDATE {t.PhpbbPosts} SET post_text = @text, post_checksum = @checksum, {(subject.Length > 0 ? "post_subject = @subject," : "")}
              enable_bbcode = @bbcode, enable_smilies = @smilies, enable_sig = @sig,
              post_edit_time = @time, post_edit_user = @poster, post_edit_count = post_edit_count + 1
            WHERE post_id = @id
            """, ct,
            ("@text", PhpbbText.FromRecordText(record.Text)), ("@checksum", PhpbbText.Checksum(record.Text)), ("@subject", subject),
            ("@bbcode", record.EnableBbcode ? 1 : 0), ("@smilies", record.EnableSmilies ? 1 : 0), ("@sig", record.EnableSignature ? 1 : 0),
            ("@time", time), ("@poster", location.PosterId), ("@id", postId));
        if (subject.Length == 0) return;
        // edit_first_post: the topic title (and type) follow the first post; last-post subjects follow the last post.
        await db.ExecuteAsync($"""
            UPDATE {t.PhpbbTopics} SET
              topic_title = IF(topic_first_post_id = @id, @subject, topic_title),
              topic_type = IF(topic_first_post_id = @id, @type, topic_type),
              topic_last_post_subject = IF(topic_last_post_id = @id, @subject, topic_last_post_subject)
            WHERE topic_id = @topic;
            UPDATE {t.PhpbbForums} SET forum_last_post_subject = @subject WHERE forum_id = @forum AND forum_last_post_id = @id;
            """, ct,
            ("@id", postId), ("@subject", subject), ("@type", ForumTopicType.ToPhpbb(record.TopicType)), ("@topic", location.TopicId),
            ("@forum", location.ForumId));
    }
}
