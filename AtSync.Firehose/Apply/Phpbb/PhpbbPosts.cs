using AtSync.Core.Forum;
using AtSync.Core.Forum.Text;

namespace AtSync.Firehose.Apply.Phpbb;

/// <summary>A phpBB user as a post's poster fields need it.</summary>
internal sealed record PhpbbUser(uint UserId, string Username, string Colour);

/// <summary>Where a phpBB post is: its topic, forum and poster.</summary>
internal readonly record struct PostLocation(uint TopicId, uint ForumId, uint PosterId);

/// <summary>
/// A network post's content as phpBB stores it: the subject escaped and cut (<see cref="PhpbbSubject"/>), the message
/// columns (<see cref="PhpbbMessage"/>), the signature switch, the phpBB topic type the policy allowed.
/// </summary>
internal sealed record PostContent(string Subject, PhpbbMessage Message, bool EnableSignature, int TopicType)
{
    public static PostContent From(ForumPostRecord record, int topicType) =>
        new(PhpbbSubject.Stored(record.Subject), PhpbbMessage.FromRecord(record.Text, record.EnableBbcode), record.EnableSignature, topicType);
}

/// <summary>
/// A post to submit into <see cref="TopicId"/>, or as a new topic's first post when that is null, with the
/// <see cref="Visibility"/> the posting policy gave it (ITEM_APPROVED, or ITEM_UNAPPROVED to wait in the moderation queue).
/// </summary>
internal sealed record NewPost(uint ForumId, uint? TopicId, PhpbbUser Poster, long Time, PostContent Content, int Visibility)
{
    public bool StartsTopic => TopicId is null;

    public bool Approved => Visibility == PhpbbConstants.ItemApproved;
}

/// <summary>The rows a submitted post got.</summary>
internal readonly record struct SubmittedPost(uint TopicId, uint PostId);

/// <summary>
/// phpBB 3.3's <c>submit_post</c> and the text part of <c>edit_post</c> for posts that come from the network: the post
/// row, the topic's first/last post fields and counters, the poster's post count, the forum's counters and last post.
/// A post waiting for approval is counted in the unapproved counters only: the approved counters, the poster's post
/// count and the forum's last post do not move, and a reply leaves its topic's last post as it was.
/// </summary>
internal sealed class PhpbbPosts(ForumSession db)
{
    public async Task<SubmittedPost> SubmitAsync(NewPost post, CancellationToken ct)
    {
        var t = db.Tables;
        var content = post.Content;
        var message = content.Message;
        var topicId = post.TopicId ?? await InsertTopicAsync(post, ct);

        uint postId;
        await using (var insert = db.Command($"""
            INSERT INTO {t.PhpbbPosts} (topic_id, forum_id, poster_id, poster_ip, post_time, enable_bbcode, enable_smilies, enable_magic_url,
              enable_sig, post_username, post_subject, post_text, post_checksum, bbcode_bitfield, bbcode_uid, post_postcount, post_visibility)
            VALUES (@topic, @forum, @poster, '', @time, @bbcode, @smilies, @magic, @sig, '', @subject, @text, @checksum, '', @uid, 1, @vis)
            """,
            ("@topic", topicId), ("@forum", post.ForumId), ("@poster", post.Poster.UserId), ("@time", post.Time),
            ("@bbcode", message.EnableBbcode), ("@smilies", message.EnableSmilies), ("@magic", message.EnableMagicUrl),
            ("@sig", content.EnableSignature), ("@subject", content.Subject), ("@text", message.Text), ("@checksum", message.Checksum),
            ("@uid", PhpbbMessage.NewUid()), ("@vis", post.Visibility)))
        {
            await insert.ExecuteNonQueryAsync(ct);
            postId = checked((uint)insert.LastInsertedId);
        }

        // submit_post: topic first/last post fields and counters, the poster's count, the forum's counters and last post.
        await db.ExecuteAsync($"""
            UPDATE {t.PhpbbTopics} SET
              topic_first_post_id = IF(@starter, @post, topic_first_post_id),
              topic_posts_approved = topic_posts_approved + IF(@starter OR NOT @approved, 0, 1),
              topic_posts_unapproved = topic_posts_unapproved + IF(@starter OR @approved, 0, 1),
              topic_last_post_id = IF(@starter OR @approved, @post, topic_last_post_id),
              topic_last_poster_id = IF(@starter OR @approved, @poster, topic_last_poster_id),
              topic_last_poster_name = IF(@starter OR @approved, @name, topic_last_poster_name),
              topic_last_poster_colour = IF(@starter OR @approved, @colour, topic_last_poster_colour),
              topic_last_post_subject = IF(@starter OR @approved, @subject, topic_last_post_subject),
              topic_last_post_time = IF(@starter OR @approved, @time, topic_last_post_time),
              topic_last_view_time = @time, topic_bumped = 0, topic_bumper = 0
            WHERE topic_id = @topic;
            UPDATE {t.PhpbbUsers} SET user_lastpost_time = @time, user_posts = user_posts + IF(@approved, 1, 0) WHERE user_id = @poster;
            UPDATE {t.PhpbbForums} SET
              forum_topics_approved = forum_topics_approved + IF(@starter AND @approved, 1, 0),
              forum_topics_unapproved = forum_topics_unapproved + IF(@starter AND NOT @approved, 1, 0),
              forum_posts_approved = forum_posts_approved + IF(@approved, 1, 0),
              forum_posts_unapproved = forum_posts_unapproved + IF(@approved, 0, 1),
              forum_last_post_id = IF(@approved, @post, forum_last_post_id),
              forum_last_poster_id = IF(@approved, @poster, forum_last_poster_id),
              forum_last_post_subject = IF(@approved, @subject, forum_last_post_subject),
              forum_last_post_time = IF(@approved, @time, forum_last_post_time),
              forum_last_poster_name = IF(@approved, @name, forum_last_poster_name),
              forum_last_poster_colour = IF(@approved, @colour, forum_last_poster_colour)
            WHERE forum_id = @forum;
            """, ct,
            ("@starter", post.StartsTopic), ("@approved", post.Approved), ("@post", postId), ("@poster", post.Poster.UserId),
            ("@name", post.Poster.Username), ("@colour", post.Poster.Colour), ("@subject", content.Subject), ("@time", post.Time),
            ("@topic", topicId), ("@forum", post.ForumId));
        return new SubmittedPost(topicId, postId);
    }

    private async Task<uint> InsertTopicAsync(NewPost post, CancellationToken ct)
    {
        // submit_post: a topic waiting for approval is ITEM_UNAPPROVED with its one post counted as unapproved, and
        // topic_delete_user set to its poster.
        await using var insert = db.Command($"""
            INSERT INTO {db.Tables.PhpbbTopics} (forum_id, topic_title, topic_poster, topic_time, topic_last_view_time, topic_posts_approved,
              topic_posts_unapproved, topic_visibility, topic_delete_user, topic_first_poster_name, topic_first_poster_colour, topic_type, topic_status)
            VALUES (@forum, @subject, @poster, @time, @time, @approvedCount, @unapprovedCount, @vis, @deleteUser, @name, @colour, @type, 0)
            """,
            ("@forum", post.ForumId), ("@subject", post.Content.Subject), ("@poster", post.Poster.UserId), ("@time", post.Time),
            ("@approvedCount", post.Approved ? 1 : 0), ("@unapprovedCount", post.Approved ? 0 : 1), ("@vis", post.Visibility),
            ("@deleteUser", post.Approved ? 0 : post.Poster.UserId), ("@name", post.Poster.Username), ("@colour", post.Poster.Colour),
            ("@type", post.Content.TopicType));
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
    /// An edit by the poster: text, checksum, switches, edit time and count (the post keeps its <c>bbcode_uid</c>, as
    /// posting.php does); a new subject also renames the topic when this is its first post (<c>edit_first_post</c>) and
    /// follows into the last-post subjects. The topic type changes only when <paramref name="topicTypeAllowed"/>
    /// (posting.php keeps the original type for an author without the permission).
    /// </summary>
    public async Task EditAsync(uint postId, PostLocation location, PostContent content, bool topicTypeAllowed, long time, CancellationToken ct)
    {
        var t = db.Tables;
        var subject = content.Subject;
        var message = content.Message;
        await db.ExecuteAsync($"""
            UPDATE {t.PhpbbPosts} SET post_text = @text, post_checksum = @checksum, {(subject.Length > 0 ? "post_subject = @subject," : "")}
              enable_bbcode = @bbcode, enable_smilies = @smilies, enable_magic_url = @magic, enable_sig = @sig,
              bbcode_uid = IF(bbcode_uid = '', @uid, bbcode_uid), bbcode_bitfield = '',
              post_edit_time = @time, post_edit_user = @poster, post_edit_count = post_edit_count + 1
            WHERE post_id = @id
            """, ct,
            ("@text", message.Text), ("@checksum", message.Checksum), ("@subject", subject),
            ("@bbcode", message.EnableBbcode), ("@smilies", message.EnableSmilies), ("@magic", message.EnableMagicUrl),
            ("@sig", content.EnableSignature), ("@uid", PhpbbMessage.NewUid()),
            ("@time", time), ("@poster", location.PosterId), ("@id", postId));
        if (subject.Length == 0) return;
        // edit_first_post: the topic title (and type) follow the first post; last-post subjects follow the last post.
        await db.ExecuteAsync($"""
            UPDATE {t.PhpbbTopics} SET
              topic_title = IF(topic_first_post_id = @id, @subject, topic_title),
              topic_type = IF(topic_first_post_id = @id AND @typeAllowed, @type, topic_type),
              topic_last_post_subject = IF(topic_last_post_id = @id, @subject, topic_last_post_subject)
            WHERE topic_id = @topic;
            UPDATE {t.PhpbbForums} SET forum_last_post_subject = @subject WHERE forum_id = @forum AND forum_last_post_id = @id;
            """, ct,
            ("@id", postId), ("@subject", subject), ("@typeAllowed", topicTypeAllowed), ("@type", content.TopicType), ("@topic", location.TopicId),
            ("@forum", location.ForumId));
    }
}
