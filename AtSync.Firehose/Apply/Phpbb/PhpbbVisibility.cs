using AtSync.Core.Forum;

namespace AtSync.Firehose.Apply.Phpbb;

/// <summary>
/// phpBB 3.3's <c>content_visibility::set_post_visibility</c> for one post (soft delete / restore, the poster's post
/// count), then <c>sync('topic')</c> for its topic and <c>update_post_information('forum')</c> for its forum.
/// </summary>
internal sealed class PhpbbVisibility(ForumSession db)
{
    /// <summary>
    /// Makes the post approved (<paramref name="visible"/>) or soft-deleted with <paramref name="deleteReason"/>, moving the
    /// counters and resyncing the topic. A post waiting in the moderation queue (ITEM_UNAPPROVED, ITEM_REAPPROVE) is
    /// already out of view and only a moderator approves it: it stays as it is, unless <paramref name="recordDeleted"/>
    /// (its author deleted the record), which soft-deletes it. Returns whether the visibility changed (false too when
    /// the post is gone).
    /// </summary>
    public Task<bool> SetAsync(uint postId, bool visible, string deleteReason, long time, CancellationToken ct, bool recordDeleted = false) =>
        MoveAsync(postId, visible ? PhpbbConstants.ItemApproved : PhpbbConstants.ItemDeleted, deleteReason, time, recordDeleted, ct);

    /// <summary>
    /// An edit that must be approved again (submit_post's ITEM_REAPPROVE for an author without <c>f_noapprove</c>): an
    /// approved post goes back into the moderation queue; any other state stays. Returns whether it changed.
    /// </summary>
    public Task<bool> RequireReapprovalAsync(uint postId, long time, CancellationToken ct) =>
        MoveAsync(postId, PhpbbConstants.ItemReapprove, "", time, awaitingMay: false, ct, onlyFrom: PhpbbConstants.ItemApproved);

    private async Task<bool> MoveAsync(uint postId, int desired, string deleteReason, long time, bool awaitingMay, CancellationToken ct, int? onlyFrom = null)
    {
        var t = db.Tables;
        int visibility, postcount;
        uint topicId, forumId, posterId;
        await using (var read = db.Command(
            $"SELECT post_visibility, post_postcount, topic_id, forum_id, poster_id FROM {t.PhpbbPosts} WHERE post_id = @id FOR UPDATE", ("@id", postId)))
        {
            await using var reader = await read.ExecuteReaderAsync(ct);
            if (!await reader.ReadAsync(ct)) return false;
            visibility = reader.Int32At(0);
            postcount = reader.Int32At(1);
            topicId = reader.UInt32At(2);
            forumId = reader.UInt32At(3);
            posterId = reader.UInt32At(4);
        }
        if (desired == visibility) return false;
        if (onlyFrom is { } from && visibility != from) return false;
        if (visibility is PhpbbConstants.ItemUnapproved or PhpbbConstants.ItemReapprove && !awaitingMay) return false;

        var deleted = desired == PhpbbConstants.ItemDeleted;
        await db.ExecuteAsync($"""
            UPDATE {t.PhpbbPosts} SET post_visibility = @vis, post_delete_time = @deleteTime, post_delete_reason = @reason, post_delete_user = @deleteUser
            WHERE post_id = @id;
            UPDATE {t.PhpbbUsers} SET user_posts = GREATEST(CAST(user_posts AS SIGNED) + @postDelta, 0) WHERE user_id = @poster AND @postcount = 1;
            """, ct,
            ("@vis", desired), ("@deleteTime", deleted ? time : 0), ("@reason", deleted ? deleteReason : ""), ("@deleteUser", deleted ? posterId : 0),
            ("@id", postId), ("@postDelta", (visibility == PhpbbConstants.ItemApproved ? -1 : 0) + (desired == PhpbbConstants.ItemApproved ? 1 : 0)),
            ("@poster", posterId), ("@postcount", postcount));
        await ResyncTopicAsync(topicId, forumId, time, ct);
        return true;
    }

    /// <summary>
    /// phpBB's <c>sync('topic')</c> for one topic: post counters by visibility, first and last post from the approved
    /// posts (by post id), the topic's own visibility; the forum's counters move by the differences and its last post
    /// is recomputed (<c>update_post_information('forum')</c>).
    /// </summary>
    public async Task ResyncTopicAsync(uint topicId, uint forumId, long time, CancellationToken ct)
    {
        var t = db.Tables;
        int oldVisibility;
        long oldApproved, oldDeleted, oldUnapproved;
        await using (var before = db.Command(
            $"SELECT topic_visibility, topic_posts_approved, topic_posts_softdeleted, topic_posts_unapproved FROM {t.PhpbbTopics} WHERE topic_id = @topic FOR UPDATE",
            ("@topic", topicId)))
        {
            await using var reader = await before.ExecuteReaderAsync(ct);
            if (!await reader.ReadAsync(ct)) return;
            oldVisibility = reader.Int32At(0);
            oldApproved = reader.Int64At(1);
            oldDeleted = reader.Int64At(2);
            oldUnapproved = reader.Int64At(3);
        }
        long approved, deleted, unapproved;
        await using (var counts = db.Command($"""
            SELECT COALESCE(SUM(post_visibility = {PhpbbConstants.ItemApproved}), 0), COALESCE(SUM(post_visibility = {PhpbbConstants.ItemDeleted}), 0),
                   COALESCE(SUM(post_visibility NOT IN ({PhpbbConstants.ItemApproved}, {PhpbbConstants.ItemDeleted})), 0)
            FROM {t.PhpbbPosts} WHERE topic_id = @topic
            """, ("@topic", topicId)))
        {
            await using var reader = await counts.ExecuteReaderAsync(ct);
            await reader.ReadAsync(ct);
            approved = reader.Int64At(0);
            deleted = reader.Int64At(1);
            unapproved = reader.Int64At(2);
        }
        var visibility = approved > 0 ? PhpbbConstants.ItemApproved : deleted > 0 ? PhpbbConstants.ItemDeleted : PhpbbConstants.ItemUnapproved;
        // First/last post among the approved ones; a topic with none keeps them among all its posts (as sync() does).
        var pool = approved > 0 ? $"post_visibility = {PhpbbConstants.ItemApproved}" : "1 = 1";
        await db.ExecuteAsync($"""
            UPDATE {t.PhpbbTopics} tp
            JOIN (SELECT p.post_id, p.poster_id, p.post_time, u.username, u.user_colour FROM {t.PhpbbPosts} p
                  LEFT JOIN {t.PhpbbUsers} u ON u.user_id = p.poster_id
                  WHERE p.topic_id = @topic AND {pool} ORDER BY p.post_id ASC LIMIT 1) f
            JOIN (SELECT p.post_id, p.poster_id, p.post_time, p.post_subject, u.username, u.user_colour FROM {t.PhpbbPosts} p
                  LEFT JOIN {t.PhpbbUsers} u ON u.user_id = p.poster_id
                  WHERE p.topic_id = @topic AND {pool} ORDER BY p.post_id DESC LIMIT 1) l
            SET tp.topic_posts_approved = @approved, tp.topic_posts_softdeleted = @deleted, tp.topic_posts_unapproved = @unapproved,
                tp.topic_visibility = @vis,
                tp.topic_delete_time = IF(@vis = {PhpbbConstants.ItemDeleted}, IF(tp.topic_visibility = {PhpbbConstants.ItemDeleted}, tp.topic_delete_time, @time), 0),
                tp.topic_delete_user = IF(@vis = {PhpbbConstants.ItemDeleted}, f.poster_id, 0),
                tp.topic_first_post_id = f.post_id, tp.topic_poster = f.poster_id, tp.topic_time = f.post_time,
                tp.topic_first_poster_name = COALESCE(f.username, ''), tp.topic_first_poster_colour = COALESCE(f.user_colour, ''),
                tp.topic_last_post_id = l.post_id, tp.topic_last_poster_id = l.poster_id, tp.topic_last_post_time = l.post_time,
                tp.topic_last_poster_name = COALESCE(l.username, ''), tp.topic_last_poster_colour = COALESCE(l.user_colour, ''),
                tp.topic_last_post_subject = l.post_subject
            WHERE tp.topic_id = @topic
            """, ct,
            ("@topic", topicId), ("@approved", approved), ("@deleted", deleted), ("@unapproved", unapproved), ("@vis", visibility), ("@time", time));
        await db.ExecuteAsync($"""
            UPDATE {t.PhpbbForums} SET
              forum_posts_approved = GREATEST(CAST(forum_posts_approved AS SIGNED) + @dApproved, 0),
              forum_posts_softdeleted = GREATEST(CAST(forum_posts_softdeleted AS SIGNED) + @dDeleted, 0),
              forum_posts_unapproved = GREATEST(CAST(forum_posts_unapproved AS SIGNED) + @dUnapproved, 0),
              forum_topics_approved = GREATEST(CAST(forum_topics_approved AS SIGNED) + (@newVis = {PhpbbConstants.ItemApproved}) - (@oldVis = {PhpbbConstants.ItemApproved}), 0),
              forum_topics_softdeleted = GREATEST(CAST(forum_topics_softdeleted AS SIGNED) + (@newVis = {PhpbbConstants.ItemDeleted}) - (@oldVis = {PhpbbConstants.ItemDeleted}), 0),
              forum_topics_unapproved = GREATEST(CAST(forum_topics_unapproved AS SIGNED) + (@newVis = {PhpbbConstants.ItemUnapproved}) - (@oldVis = {PhpbbConstants.ItemUnapproved}), 0)
            WHERE forum_id = @forum
            """, ct,
            ("@dApproved", approved - oldApproved), ("@dDeleted", deleted - oldDeleted), ("@dUnapproved", unapproved - oldUnapproved),
            ("@newVis", visibility), ("@oldVis", oldVisibility), ("@forum", forumId));
        await ResyncForumLastPostAsync(forumId, ct);
    }

    private Task ResyncForumLastPostAsync(uint forumId, CancellationToken ct)
    {
        var t = db.Tables;
        return db.ExecuteAsync($"""
            UPDATE {t.PhpbbForums} fo
            LEFT JOIN (SELECT p.post_id, p.poster_id, p.post_subject, p.post_time, u.username, u.user_colour
                       FROM {t.PhpbbPosts} p LEFT JOIN {t.PhpbbUsers} u ON u.user_id = p.poster_id
                       WHERE p.forum_id = @forum AND p.post_visibility = {PhpbbConstants.ItemApproved} ORDER BY p.post_id DESC LIMIT 1) l ON 1 = 1
            SET fo.forum_last_post_id = COALESCE(l.post_id, 0), fo.forum_last_poster_id = COALESCE(l.poster_id, 0),
                fo.forum_last_post_subject = COALESCE(l.post_subject, ''), fo.forum_last_post_time = COALESCE(l.post_time, 0),
                fo.forum_last_poster_name = COALESCE(l.username, ''), fo.forum_last_poster_colour = COALESCE(l.user_colour, '')
            WHERE fo.forum_id = @forum
            """, ct, ("@forum", forumId));
    }
}
