using System.Globalization;
using System.Text.Json;
using AtSync.Core.Forum;
using AtSync.Core.Forum.Text;
using AtSync.Core.Storage;
using AtSync.Firehose.Events;
using MySqlConnector;

namespace AtSync.Firehose.Storage;

/// <summary>
/// Applies stream events to phpBB's tables inside one open transaction, with phpBB 3.3's semantics
/// (<c>submit_post</c> for new topics and replies, <c>content_visibility::set_post_visibility</c> and <c>sync('topic')</c>
/// for soft deletes and hides). Row data is derived from the events only (never the wall clock), so applying the
/// same events gives the same rows.
/// </summary>
internal sealed class ForumTransaction(
    MySqlConnection connection,
    MySqlTransaction transaction,
    AtSyncTables t,
    BatchOutcome outcome,
    string labelerDid,
    Func<string, string?> knownHandle)
{
    private static readonly string SyncedStatus = SyncStatus.Synced.ToSql();
    private static readonly string DeletedStatus = SyncStatus.Deleted.ToSql();
    private const string HideLabel = ModerationLabels.Hide;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly Dictionary<string, PhpbbUser> _users = new(StringComparer.Ordinal);
    private readonly Dictionary<string, uint?> _forums = new(StringComparer.Ordinal);

    private sealed record PhpbbUser(uint UserId, string Username, string Colour);

    // ---- events ---------------------------------------------------------------------------------------------

    public async Task ApplyAsync(StreamEvent streamEvent, CancellationToken ct)
    {
        switch (streamEvent)
        {
            case CommitEvent commit:
                foreach (var op in commit.ForumOps)
                {
                    await ApplyOpAsync(commit, op, ct).ConfigureAwait(false);
                }
                break;
            case IdentityEvent identity:
                await ApplyIdentityAsync(identity, ct).ConfigureAwait(false);
                break;
            case AccountEvent account:
                await ApplyAccountAsync(account, ct).ConfigureAwait(false);
                break;
            case LabelsEvent labels:
                foreach (var label in labels.Labels)
                {
                    await ApplyLabelAsync(label, ct).ConfigureAwait(false);
                }
                break;
        }
    }

    private async Task ApplyOpAsync(CommitEvent commit, ForumOp op, CancellationToken ct)
    {
        if (op.Collection != ForumLexicon.Post)
        {
            outcome.Skip(Outcomes.OtherCollection);
            return;
        }
        var uri = op.Uri(commit.Repo);
        var time = Unix(commit.Time);
        // Revisions (TIDs) grow with every commit of a repository: an operation not newer than the last one applied to
        // this record is a replay (or arrived late) and changes nothing.
        await using (var revision = Command($"SELECT rev FROM {t.RecordRevisions} WHERE at_uri = @uri FOR UPDATE"))
        {
            revision.Parameters.AddWithValue("@uri", uri);
            if (await revision.ExecuteScalarAsync(ct).ConfigureAwait(false) is string stored && string.CompareOrdinal(commit.Rev, stored) <= 0)
            {
                outcome.Skip(Outcomes.StaleRevision);
                return;
            }
        }
        await using (var record = Command($"INSERT INTO {t.RecordRevisions} (at_uri, rev) VALUES (@uri, @rev) ON DUPLICATE KEY UPDATE rev = @rev"))
        {
            record.Parameters.AddWithValue("@uri", uri);
            record.Parameters.AddWithValue("@rev", commit.Rev);
            await record.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
        if (op.Action == ForumOp.Delete)
        {
            await DeletePostAsync(uri, time, ct).ConfigureAwait(false);
            return;
        }
        if (op.Post is null || op.Problem is not null || op.Cid is null)
        {
            outcome.Skip(Outcomes.InvalidRecord);
            return;
        }
        await UpsertPostAsync(commit.Repo, uri, op.Cid, op.Post, op.Action, time, commit.SeqNumber, ct).ConfigureAwait(false);
    }

    // ---- posts ----------------------------------------------------------------------------------------------

    private async Task UpsertPostAsync(string did, string uri, string cid, ForumPostRecord record, string action, long time, long seq, CancellationToken ct)
    {
        await using (var find = Command($"SELECT post_id, COALESCE(at_cid, ''), sync_status FROM {t.Posts} WHERE at_uri = @uri FOR UPDATE"))
        {
            find.Parameters.AddWithValue("@uri", uri);
            await using var reader = await find.ExecuteReaderAsync(ct).ConfigureAwait(false);
            if (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                var postId = Convert.ToUInt32(reader.GetValue(0), CultureInfo.InvariantCulture);
                var storedCid = reader.GetString(1);
                var status = reader.GetString(2);
                await reader.DisposeAsync().ConfigureAwait(false);
                await UpdateMappedPostAsync(postId, storedCid, status, cid, record, action, time, ct).ConfigureAwait(false);
                return;
            }
        }

        // A reply parked earlier and now edited: keep the newest record in the parking row (only replies are parked).
        if (record.IsReply)
        await using (var parked = Command($"UPDATE {t.ParkedPosts} SET at_cid = @cid, record_json = @json WHERE at_uri = @uri"))
        {
            parked.Parameters.AddWithValue("@cid", cid);
            parked.Parameters.AddWithValue("@json", JsonSerializer.Serialize(record, Json));
            parked.Parameters.AddWithValue("@uri", uri);
            if (await parked.ExecuteNonQueryAsync(ct).ConfigureAwait(false) > 0)
            {
                outcome.Apply(Outcomes.Parked);
                return;
            }
        }
        await CreatePostAsync(did, uri, cid, record, time, seq, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// The AT-URI is already a phpBB post. While its mapping is not confirmed (the QueueWorker published it and the
    /// network echoes it back), only the mapping's CID and sync status change. A confirmed post: a create or the same CID
    /// is a replay (nothing changes), an update with a new CID is an edit.
    /// </summary>
    private async Task UpdateMappedPostAsync(uint postId, string storedCid, string status, string cid, ForumPostRecord record, string action, long time, CancellationToken ct)
    {
        if (status == DeletedStatus)
        {
            outcome.Skip(Outcomes.DeletedPost);
            return;
        }
        var confirmed = status == SyncedStatus && storedCid.Length > 0;
        if (storedCid == cid && confirmed)
        {
            outcome.Skip(Outcomes.Duplicate);
            return;
        }
        if (confirmed && action == ForumOp.Create)
        {
            // A create of a post already confirmed (a replay): the stored state is newer or equal.
            outcome.Skip(Outcomes.Duplicate);
            return;
        }
        if (!confirmed)
        {
            await using var echo = Command($"UPDATE {t.Posts} SET at_cid = @cid, sync_status = @status, updated_at = @time WHERE post_id = @id");
            echo.Parameters.AddWithValue("@cid", cid);
            echo.Parameters.AddWithValue("@status", SyncedStatus);
            echo.Parameters.AddWithValue("@time", time);
            echo.Parameters.AddWithValue("@id", postId);
            await echo.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            outcome.Apply(Outcomes.Echo);
            return;
        }
        await EditPostAsync(postId, cid, record, time, ct).ConfigureAwait(false);
    }

    private async Task EditPostAsync(uint postId, string cid, ForumPostRecord record, long time, CancellationToken ct)
    {
        uint topicId, forumId, posterId;
        await using (var read = Command($"SELECT topic_id, forum_id, poster_id FROM {t.PhpbbPosts} WHERE post_id = @id FOR UPDATE"))
        {
            read.Parameters.AddWithValue("@id", postId);
            await using var reader = await read.ExecuteReaderAsync(ct).ConfigureAwait(false);
            if (!await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                outcome.Skip(Outcomes.UnknownPost);
                return;
            }
            topicId = Convert.ToUInt32(reader.GetValue(0), CultureInfo.InvariantCulture);
            forumId = Convert.ToUInt32(reader.GetValue(1), CultureInfo.InvariantCulture);
            posterId = Convert.ToUInt32(reader.GetValue(2), CultureInfo.InvariantCulture);
        }
        var subject = PhpbbColumnText.Subject(record.Subject ?? "");
        await using (var update = Command($"""
            UPDATE {t.PhpbbPosts} SET post_text = @text, post_checksum = @checksum, {(subject.Length > 0 ? "post_subject = @subject," : "")}
              enable_bbcode = @bbcode, enable_smilies = @smilies, enable_sig = @sig,
              post_edit_time = @time, post_edit_user = @poster, post_edit_count = post_edit_count + 1
            WHERE post_id = @id
            """))
        {
            update.Parameters.AddWithValue("@text", PhpbbText.FromRecordText(record.Text));
            update.Parameters.AddWithValue("@checksum", PhpbbText.Checksum(record.Text));
            update.Parameters.AddWithValue("@subject", subject);
            update.Parameters.AddWithValue("@bbcode", record.EnableBbcode ? 1 : 0);
            update.Parameters.AddWithValue("@smilies", record.EnableSmilies ? 1 : 0);
            update.Parameters.AddWithValue("@sig", record.EnableSignature ? 1 : 0);
            update.Parameters.AddWithValue("@time", time);
            update.Parameters.AddWithValue("@poster", posterId);
            update.Parameters.AddWithValue("@id", postId);
            await update.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
        if (subject.Length > 0)
        {
            // edit_first_post: the topic title (and type) follow the first post; last-post subjects follow the last post.
            await using var topic = Command($"""
                UPDATE {t.PhpbbTopics} SET
                  topic_title = IF(topic_first_post_id = @id, @subject, topic_title),
                  topic_type = IF(topic_first_post_id = @id, @type, topic_type),
                  topic_last_post_subject = IF(topic_last_post_id = @id, @subject, topic_last_post_subject)
                WHERE topic_id = @topic;
                UPDATE {t.PhpbbForums} SET forum_last_post_subject = @subject WHERE forum_id = @forum AND forum_last_post_id = @id;
                """);
            topic.Parameters.AddWithValue("@id", postId);
            topic.Parameters.AddWithValue("@subject", subject);
            topic.Parameters.AddWithValue("@type", ForumTopicType.ToPhpbb(record.TopicType));
            topic.Parameters.AddWithValue("@topic", topicId);
            topic.Parameters.AddWithValue("@forum", forumId);
            await topic.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
        await using (var mapping = Command($"UPDATE {t.Posts} SET at_cid = @cid, sync_status = @status, updated_at = @time WHERE post_id = @id"))
        {
            mapping.Parameters.AddWithValue("@cid", cid);
            mapping.Parameters.AddWithValue("@status", SyncedStatus);
            mapping.Parameters.AddWithValue("@time", time);
            mapping.Parameters.AddWithValue("@id", postId);
            await mapping.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
        outcome.Apply(Outcomes.Edit);
    }

    private async Task CreatePostAsync(string did, string uri, string cid, ForumPostRecord record, long eventTime, long seq, CancellationToken ct)
    {
        var forumId = await ForumForAsync(record.Forum.Uri, ct).ConfigureAwait(false);
        if (forumId is null)
        {
            outcome.Skip(Outcomes.UnknownForum);
            return;
        }
        uint? topicId = null;
        var topicVisibility = PhpbbConstants.ItemApproved;
        if (record.ReplyRoot is { } root)
        {
            var rootTopic = await TopicOfAsync(root.Uri, ct).ConfigureAwait(false);
            if (rootTopic is null)
            {
                await ParkAsync(did, uri, cid, record, root.Uri, eventTime, seq, ct).ConfigureAwait(false);
                return;
            }
            topicId = rootTopic.Value.TopicId;
            forumId = rootTopic.Value.ForumId;
            topicVisibility = rootTopic.Value.Visibility;
        }
        else if (string.IsNullOrWhiteSpace(record.Subject))
        {
            outcome.Skip(Outcomes.NoSubject);
            return;
        }

        var forum = forumId.Value;
        var user = await EnsureUserAsync(did, eventTime, ct).ConfigureAwait(false);
        var time = PostTime(record.CreatedAt, eventTime);
        var subject = PhpbbColumnText.Subject(record.Subject ?? "");
        var isStarter = topicId is null;
        if (isStarter)
        {
            await using var newTopic = Command($"""
                INSERT INTO {t.PhpbbTopics} (forum_id, topic_title, topic_poster, topic_time, topic_last_view_time, topic_posts_approved,
                  topic_visibility, topic_first_poster_name, topic_first_poster_colour, topic_type, topic_status)
                VALUES (@forum, @subject, @poster, @time, @time, 1, {PhpbbConstants.ItemApproved}, @name, @colour, @type, 0)
                """);
            newTopic.Parameters.AddWithValue("@forum", forum);
            newTopic.Parameters.AddWithValue("@subject", subject);
            newTopic.Parameters.AddWithValue("@poster", user.UserId);
            newTopic.Parameters.AddWithValue("@time", time);
            newTopic.Parameters.AddWithValue("@name", user.Username);
            newTopic.Parameters.AddWithValue("@colour", user.Colour);
            newTopic.Parameters.AddWithValue("@type", ForumTopicType.ToPhpbb(record.TopicType));
            await newTopic.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            topicId = checked((uint)newTopic.LastInsertedId);
        }

        var topic = topicId.GetValueOrDefault();
        uint postId;
        await using (var post = Command($"""
            INSERT INTO {t.PhpbbPosts} (topic_id, forum_id, poster_id, poster_ip, post_time, enable_bbcode, enable_smilies, enable_magic_url,
              enable_sig, post_username, post_subject, post_text, post_checksum, post_postcount, post_visibility)
            VALUES (@topic, @forum, @poster, '', @time, @bbcode, @smilies, 1, @sig, '', @subject, @text, @checksum, 1, {PhpbbConstants.ItemApproved})
            """))
        {
            post.Parameters.AddWithValue("@topic", topic);
            post.Parameters.AddWithValue("@forum", forum);
            post.Parameters.AddWithValue("@poster", user.UserId);
            post.Parameters.AddWithValue("@time", time);
            post.Parameters.AddWithValue("@bbcode", record.EnableBbcode ? 1 : 0);
            post.Parameters.AddWithValue("@smilies", record.EnableSmilies ? 1 : 0);
            post.Parameters.AddWithValue("@sig", record.EnableSignature ? 1 : 0);
            post.Parameters.AddWithValue("@subject", subject);
            post.Parameters.AddWithValue("@text", PhpbbText.FromRecordText(record.Text));
            post.Parameters.AddWithValue("@checksum", PhpbbText.Checksum(record.Text));
            await post.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            postId = checked((uint)post.LastInsertedId);
        }

        // submit_post: topic first/last post fields and counters, the poster's count, the forum's counters and last post.
        await using (var counters = Command($"""
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
            INSERT INTO {t.Posts} (post_id, at_uri, at_cid, author_did, is_topic_starter, sync_status, created_at, updated_at)
            VALUES (@post, @uri, @cid, @did, @starter, '{SyncedStatus}', @eventTime, @eventTime);
            """))
        {
            counters.Parameters.AddWithValue("@starter", isStarter);
            counters.Parameters.AddWithValue("@post", postId);
            counters.Parameters.AddWithValue("@poster", user.UserId);
            counters.Parameters.AddWithValue("@name", user.Username);
            counters.Parameters.AddWithValue("@colour", user.Colour);
            counters.Parameters.AddWithValue("@subject", subject);
            counters.Parameters.AddWithValue("@time", time);
            counters.Parameters.AddWithValue("@topic", topic);
            counters.Parameters.AddWithValue("@forum", forum);
            counters.Parameters.AddWithValue("@uri", uri);
            counters.Parameters.AddWithValue("@cid", cid);
            counters.Parameters.AddWithValue("@did", did);
            counters.Parameters.AddWithValue("@eventTime", eventTime);
            await counters.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
        outcome.Apply(isStarter ? Outcomes.Topic : Outcomes.Reply);

        if (!isStarter)
        {
            // A reply into a topic that is soft-deleted (its only post deleted or hidden) brings the topic's state in line.
            if (topicVisibility != PhpbbConstants.ItemApproved)
            {
                await ResyncTopicAsync(topic, forum, eventTime, ct).ConfigureAwait(false);
            }
        }
        else
        {
            await ApplyParkedRepliesAsync(uri, ct).ConfigureAwait(false);
        }
    }

    private async Task ParkAsync(string did, string uri, string cid, ForumPostRecord record, string rootUri, long time, long seq, CancellationToken ct)
    {
        await using var park = Command($"""
            INSERT INTO {t.ParkedPosts} (at_uri, root_uri, author_did, at_cid, record_json, event_time, seq, created_at)
            VALUES (@uri, @root, @did, @cid, @json, @time, @seq, @time)
            ON DUPLICATE KEY UPDATE at_cid = @cid, record_json = @json
            """);
        park.Parameters.AddWithValue("@uri", uri);
        park.Parameters.AddWithValue("@root", rootUri);
        park.Parameters.AddWithValue("@did", did);
        park.Parameters.AddWithValue("@cid", cid);
        park.Parameters.AddWithValue("@json", JsonSerializer.Serialize(record, Json));
        park.Parameters.AddWithValue("@time", time);
        park.Parameters.AddWithValue("@seq", seq);
        await park.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        outcome.Apply(Outcomes.Parked);
    }

    private async Task ApplyParkedRepliesAsync(string rootUri, CancellationToken ct)
    {
        var parked = new List<(string Uri, string Did, string Cid, string Json, long Time, long Seq)>();
        await using (var find = Command($"SELECT at_uri, author_did, at_cid, record_json, event_time, seq FROM {t.ParkedPosts} WHERE root_uri = @root ORDER BY seq, at_uri FOR UPDATE"))
        {
            find.Parameters.AddWithValue("@root", rootUri);
            await using var reader = await find.ExecuteReaderAsync(ct).ConfigureAwait(false);
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                parked.Add((reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
                    Convert.ToInt64(reader.GetValue(4), CultureInfo.InvariantCulture), Convert.ToInt64(reader.GetValue(5), CultureInfo.InvariantCulture)));
            }
        }
        foreach (var reply in parked)
        {
            await using (var remove = Command($"DELETE FROM {t.ParkedPosts} WHERE at_uri = @uri"))
            {
                remove.Parameters.AddWithValue("@uri", reply.Uri);
                await remove.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }
            var record = JsonSerializer.Deserialize<ForumPostRecord>(reply.Json, Json);
            if (record is null)
            {
                outcome.Skip(Outcomes.InvalidRecord);
                continue;
            }
            outcome.Apply(Outcomes.Unparked);
            await CreatePostAsync(reply.Did, reply.Uri, reply.Cid, record, reply.Time, reply.Seq, ct).ConfigureAwait(false);
        }
    }

    private async Task DeletePostAsync(string uri, long time, CancellationToken ct)
    {
        uint postId;
        string status;
        await using (var find = Command($"SELECT post_id, sync_status FROM {t.Posts} WHERE at_uri = @uri FOR UPDATE"))
        {
            find.Parameters.AddWithValue("@uri", uri);
            await using var reader = await find.ExecuteReaderAsync(ct).ConfigureAwait(false);
            if (!await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                await reader.DisposeAsync().ConfigureAwait(false);
                await using var unpark = Command($"DELETE FROM {t.ParkedPosts} WHERE at_uri = @uri");
                unpark.Parameters.AddWithValue("@uri", uri);
                if (await unpark.ExecuteNonQueryAsync(ct).ConfigureAwait(false) > 0) outcome.Apply(Outcomes.Delete);
                else outcome.Skip(Outcomes.UnknownPost);
                return;
            }
            postId = Convert.ToUInt32(reader.GetValue(0), CultureInfo.InvariantCulture);
            status = reader.GetString(1);
        }
        if (status == DeletedStatus)
        {
            outcome.Skip(Outcomes.Duplicate);
            return;
        }
        await using (var mark = Command($"UPDATE {t.Posts} SET sync_status = '{DeletedStatus}', updated_at = @time WHERE post_id = @id"))
        {
            mark.Parameters.AddWithValue("@time", time);
            mark.Parameters.AddWithValue("@id", postId);
            await mark.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
        await UpdateVisibilityAsync(postId, time, ct).ConfigureAwait(false);
        outcome.Apply(Outcomes.Delete);
    }

    /// <summary>
    /// Sets a post's <c>post_visibility</c> from its state: soft-deleted when its record was deleted or a live
    /// <c>!hide</c> label from the labeler covers it, approved otherwise; moves the counters as
    /// <c>set_post_visibility</c> does and resyncs the topic. Returns whether the visibility changed.
    /// </summary>
    public async Task<bool> UpdateVisibilityAsync(uint postId, long time, CancellationToken ct)
    {
        int visibility, postcount;
        uint topicId, forumId, posterId;
        string status, uri;
        await using (var read = Command($"""
            SELECT p.post_visibility, p.post_postcount, p.topic_id, p.forum_id, p.poster_id, ap.sync_status, ap.at_uri
            FROM {t.PhpbbPosts} p JOIN {t.Posts} ap ON ap.post_id = p.post_id WHERE p.post_id = @id FOR UPDATE
            """))
        {
            read.Parameters.AddWithValue("@id", postId);
            await using var reader = await read.ExecuteReaderAsync(ct).ConfigureAwait(false);
            if (!await reader.ReadAsync(ct).ConfigureAwait(false)) return false;
            visibility = Convert.ToInt32(reader.GetValue(0), CultureInfo.InvariantCulture);
            postcount = Convert.ToInt32(reader.GetValue(1), CultureInfo.InvariantCulture);
            topicId = Convert.ToUInt32(reader.GetValue(2), CultureInfo.InvariantCulture);
            forumId = Convert.ToUInt32(reader.GetValue(3), CultureInfo.InvariantCulture);
            posterId = Convert.ToUInt32(reader.GetValue(4), CultureInfo.InvariantCulture);
            status = reader.GetString(5);
            uri = reader.IsDBNull(6) ? "" : reader.GetString(6);
        }
        var hidden = false;
        if (status != DeletedStatus)
        {
            await using var label = Command($"""
                SELECT COUNT(*) FROM {t.Labels} WHERE subject_uri = @uri AND label_value = '{HideLabel}' AND label_src = @src
                  AND negated = 0 AND (expires_at IS NULL OR expires_at > @time)
                """);
            label.Parameters.AddWithValue("@uri", uri);
            label.Parameters.AddWithValue("@src", labelerDid);
            label.Parameters.AddWithValue("@time", time);
            hidden = Convert.ToInt64(await label.ExecuteScalarAsync(ct).ConfigureAwait(false), CultureInfo.InvariantCulture) > 0;
        }
        var desired = status == DeletedStatus || hidden ? PhpbbConstants.ItemDeleted : PhpbbConstants.ItemApproved;
        if (desired == visibility) return false;

        await using (var update = Command($"""
            UPDATE {t.PhpbbPosts} SET post_visibility = @vis, post_delete_time = @deleteTime, post_delete_reason = @reason, post_delete_user = @deleteUser
            WHERE post_id = @id;
            UPDATE {t.PhpbbUsers} SET user_posts = GREATEST(CAST(user_posts AS SIGNED) + @postDelta, 0) WHERE user_id = @poster AND @postcount = 1;
            """))
        {
            update.Parameters.AddWithValue("@vis", desired);
            update.Parameters.AddWithValue("@deleteTime", desired == PhpbbConstants.ItemDeleted ? time : 0);
            update.Parameters.AddWithValue("@reason", desired == PhpbbConstants.ItemDeleted && status != DeletedStatus ? "Hidden by moderation label" : "");
            update.Parameters.AddWithValue("@deleteUser", desired == PhpbbConstants.ItemDeleted ? posterId : 0);
            update.Parameters.AddWithValue("@id", postId);
            update.Parameters.AddWithValue("@postDelta", (visibility == PhpbbConstants.ItemApproved ? -1 : 0) + (desired == PhpbbConstants.ItemApproved ? 1 : 0));
            update.Parameters.AddWithValue("@poster", posterId);
            update.Parameters.AddWithValue("@postcount", postcount);
            await update.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
        await ResyncTopicAsync(topicId, forumId, time, ct).ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// phpBB's <c>sync('topic')</c> for one topic: post counters by visibility, first and last post from the approved
    /// posts (by post id), the topic's own visibility; the forum's counters move by the differences and its last post
    /// is recomputed (<c>update_post_information('forum')</c>).
    /// </summary>
    private async Task ResyncTopicAsync(uint topicId, uint forumId, long time, CancellationToken ct)
    {
        int oldVisibility;
        long oldApproved, oldDeleted, oldUnapproved;
        await using (var before = Command($"SELECT topic_visibility, topic_posts_approved, topic_posts_softdeleted, topic_posts_unapproved FROM {t.PhpbbTopics} WHERE topic_id = @topic FOR UPDATE"))
        {
            before.Parameters.AddWithValue("@topic", topicId);
            await using var reader = await before.ExecuteReaderAsync(ct).ConfigureAwait(false);
            if (!await reader.ReadAsync(ct).ConfigureAwait(false)) return;
            oldVisibility = Convert.ToInt32(reader.GetValue(0), CultureInfo.InvariantCulture);
            oldApproved = Convert.ToInt64(reader.GetValue(1), CultureInfo.InvariantCulture);
            oldDeleted = Convert.ToInt64(reader.GetValue(2), CultureInfo.InvariantCulture);
            oldUnapproved = Convert.ToInt64(reader.GetValue(3), CultureInfo.InvariantCulture);
        }
        long approved, deleted, unapproved;
        await using (var counts = Command($"""
            SELECT COALESCE(SUM(post_visibility = {PhpbbConstants.ItemApproved}), 0), COALESCE(SUM(post_visibility = {PhpbbConstants.ItemDeleted}), 0),
                   COALESCE(SUM(post_visibility NOT IN ({PhpbbConstants.ItemApproved}, {PhpbbConstants.ItemDeleted})), 0)
            FROM {t.PhpbbPosts} WHERE topic_id = @topic
            """))
        {
            counts.Parameters.AddWithValue("@topic", topicId);
            await using var reader = await counts.ExecuteReaderAsync(ct).ConfigureAwait(false);
            await reader.ReadAsync(ct).ConfigureAwait(false);
            approved = Convert.ToInt64(reader.GetValue(0), CultureInfo.InvariantCulture);
            deleted = Convert.ToInt64(reader.GetValue(1), CultureInfo.InvariantCulture);
            unapproved = Convert.ToInt64(reader.GetValue(2), CultureInfo.InvariantCulture);
        }
        var visibility = approved > 0 ? PhpbbConstants.ItemApproved : deleted > 0 ? PhpbbConstants.ItemDeleted : PhpbbConstants.ItemUnapproved;
        // First/last post among the approved ones; a topic with none keeps them among all its posts (as sync() does).
        var pool = approved > 0 ? $"post_visibility = {PhpbbConstants.ItemApproved}" : "1 = 1";
        await using (var update = Command($"""
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
            """))
        {
            update.Parameters.AddWithValue("@topic", topicId);
            update.Parameters.AddWithValue("@approved", approved);
            update.Parameters.AddWithValue("@deleted", deleted);
            update.Parameters.AddWithValue("@unapproved", unapproved);
            update.Parameters.AddWithValue("@vis", visibility);
            update.Parameters.AddWithValue("@time", time);
            await update.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
        await using (var forum = Command($"""
            UPDATE {t.PhpbbForums} SET
              forum_posts_approved = GREATEST(CAST(forum_posts_approved AS SIGNED) + @dApproved, 0),
              forum_posts_softdeleted = GREATEST(CAST(forum_posts_softdeleted AS SIGNED) + @dDeleted, 0),
              forum_posts_unapproved = GREATEST(CAST(forum_posts_unapproved AS SIGNED) + @dUnapproved, 0),
              forum_topics_approved = GREATEST(CAST(forum_topics_approved AS SIGNED) + (@newVis = {PhpbbConstants.ItemApproved}) - (@oldVis = {PhpbbConstants.ItemApproved}), 0),
              forum_topics_softdeleted = GREATEST(CAST(forum_topics_softdeleted AS SIGNED) + (@newVis = {PhpbbConstants.ItemDeleted}) - (@oldVis = {PhpbbConstants.ItemDeleted}), 0),
              forum_topics_unapproved = GREATEST(CAST(forum_topics_unapproved AS SIGNED) + (@newVis = {PhpbbConstants.ItemUnapproved}) - (@oldVis = {PhpbbConstants.ItemUnapproved}), 0)
            WHERE forum_id = @forum
            """))
        {
            forum.Parameters.AddWithValue("@dApproved", approved - oldApproved);
            forum.Parameters.AddWithValue("@dDeleted", deleted - oldDeleted);
            forum.Parameters.AddWithValue("@dUnapproved", unapproved - oldUnapproved);
            forum.Parameters.AddWithValue("@newVis", visibility);
            forum.Parameters.AddWithValue("@oldVis", oldVisibility);
            forum.Parameters.AddWithValue("@forum", forumId);
            await forum.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
        await ResyncForumLastPostAsync(forumId, ct).ConfigureAwait(false);
    }

    private async Task ResyncForumLastPostAsync(uint forumId, CancellationToken ct)
    {
        await using var last = Command($"""
            UPDATE {t.PhpbbForums} fo
            LEFT JOIN (SELECT p.post_id, p.poster_id, p.post_subject, p.post_time, u.username, u.user_colour
                       FROM {t.PhpbbPosts} p LEFT JOIN {t.PhpbbUsers} u ON u.user_id = p.poster_id
                       WHERE p.forum_id = @forum AND p.post_visibility = {PhpbbConstants.ItemApproved} ORDER BY p.post_id DESC LIMIT 1) l ON 1 = 1
            SET fo.forum_last_post_id = COALESCE(l.post_id, 0), fo.forum_last_poster_id = COALESCE(l.poster_id, 0),
                fo.forum_last_post_subject = COALESCE(l.post_subject, ''), fo.forum_last_post_time = COALESCE(l.post_time, 0),
                fo.forum_last_poster_name = COALESCE(l.username, ''), fo.forum_last_poster_colour = COALESCE(l.user_colour, '')
            WHERE fo.forum_id = @forum
            """);
        last.Parameters.AddWithValue("@forum", forumId);
        await last.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    // ---- users, identity, account -----------------------------------------------------------------------------

    private async Task<PhpbbUser> EnsureUserAsync(string did, long time, CancellationToken ct)
    {
        if (_users.TryGetValue(did, out var cached)) return cached;
        await using (var find = Command($"""
            SELECT u.user_id, u.username, u.user_colour FROM {t.Users} au JOIN {t.PhpbbUsers} u ON u.user_id = au.user_id WHERE au.did = @did
            """))
        {
            find.Parameters.AddWithValue("@did", did);
            await using var reader = await find.ExecuteReaderAsync(ct).ConfigureAwait(false);
            if (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                var user = new PhpbbUser(Convert.ToUInt32(reader.GetValue(0), CultureInfo.InvariantCulture), reader.GetString(1), reader.GetString(2));
                _users[did] = user;
                return user;
            }
        }

        var handle = knownHandle(did);
        var preferred = PhpbbUsernames.Preferred(did, handle);
        string username = preferred, clean = PhpbbUsernames.Clean(preferred);
        for (var attempt = 1; ; attempt++)
        {
            username = PhpbbColumnText.Name(PhpbbUsernames.Candidate(preferred, attempt));
            clean = PhpbbUsernames.Clean(username);
            await using var taken = Command($"SELECT COUNT(*) FROM {t.PhpbbUsers} WHERE username_clean = @clean");
            taken.Parameters.AddWithValue("@clean", clean);
            if (Convert.ToInt64(await taken.ExecuteScalarAsync(ct).ConfigureAwait(false), CultureInfo.InvariantCulture) == 0) break;
        }
        uint userId;
        await using (var insert = Command($"""
            INSERT INTO {t.PhpbbUsers} (user_type, group_id, user_permissions, user_regdate, username, username_clean, user_email,
              user_lang, user_timezone, user_sig, user_new)
            VALUES ({PhpbbConstants.UserNormal}, {PhpbbConstants.RegisteredGroupId}, '', @time, @username, @clean, '', 'en', 'UTC', '', 0)
            """))
        {
            insert.Parameters.AddWithValue("@time", time);
            insert.Parameters.AddWithValue("@username", username);
            insert.Parameters.AddWithValue("@clean", clean);
            await insert.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            userId = checked((uint)insert.LastInsertedId);
        }
        await using (var link = Command($"""
            INSERT INTO {t.Users} (user_id, did, handle, created_at, updated_at) VALUES (@id, @did, @handle, @time, @time)
            """))
        {
            link.Parameters.AddWithValue("@id", userId);
            link.Parameters.AddWithValue("@did", did);
            link.Parameters.AddWithValue("@handle", handle is not null && FitsAscii(handle, 253) ? handle : "");
            link.Parameters.AddWithValue("@time", time);
            await link.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
        // An account the relay already reported as deactivated starts out marked.
        await using (var account = Command($"SELECT active FROM {t.Accounts} WHERE did = @did"))
        {
            account.Parameters.AddWithValue("@did", did);
            if (await account.ExecuteScalarAsync(ct).ConfigureAwait(false) is { } active and not DBNull && Convert.ToInt32(active, CultureInfo.InvariantCulture) == 0)
            {
                await MarkPhpbbUserAsync(did, false, time, ct).ConfigureAwait(false);
            }
        }
        var created = new PhpbbUser(userId, username, "");
        _users[did] = created;
        return created;
    }

    private async Task ApplyIdentityAsync(IdentityEvent identity, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(identity.Handle))
        {
            outcome.Skip(Outcomes.UnlinkedUser);
            return;
        }
        if (!FitsAscii(identity.Handle, 253))
        {
            // Handles are ASCII (the handle column is too): anything else is not a handle.
            outcome.Skip(Outcomes.InvalidHandle);
            return;
        }
        await using var update = Command($"UPDATE {t.Users} SET handle = @handle, updated_at = @time WHERE did = @did");
        update.Parameters.AddWithValue("@handle", identity.Handle);
        update.Parameters.AddWithValue("@time", Unix(identity.Time));
        update.Parameters.AddWithValue("@did", identity.Did);
        if (await update.ExecuteNonQueryAsync(ct).ConfigureAwait(false) > 0) outcome.Apply(Outcomes.Identity);
        else outcome.Skip(Outcomes.UnlinkedUser);
    }

    private async Task ApplyAccountAsync(AccountEvent account, CancellationToken ct)
    {
        // Only DIDs that are (or become) forum users matter; the status is kept for those linked now.
        await using (var linked = Command($"SELECT COUNT(*) FROM {t.Users} WHERE did = @did"))
        {
            linked.Parameters.AddWithValue("@did", account.Did);
            if (Convert.ToInt64(await linked.ExecuteScalarAsync(ct).ConfigureAwait(false), CultureInfo.InvariantCulture) == 0)
            {
                outcome.Skip(Outcomes.UnlinkedUser);
                return;
            }
        }
        var time = Unix(account.Time);
        await using (var upsert = Command($"""
            INSERT INTO {t.Accounts} (did, active, status, updated_at) VALUES (@did, @active, @status, @time)
            ON DUPLICATE KEY UPDATE active = @active, status = @status, updated_at = @time
            """))
        {
            upsert.Parameters.AddWithValue("@did", account.Did);
            upsert.Parameters.AddWithValue("@active", account.Active ? 1 : 0);
            upsert.Parameters.AddWithValue("@status", AsciiColumn(account.Status ?? "", 64));
            upsert.Parameters.AddWithValue("@time", time);
            await upsert.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
        await MarkPhpbbUserAsync(account.Did, account.Active, time, ct).ConfigureAwait(false);
        outcome.Apply(Outcomes.Account);
    }

    /// <summary>
    /// Deactivated: the phpBB user becomes inactive (<c>USER_INACTIVE</c>, reason <c>INACTIVE_MANUAL</c>); their posts stay.
    /// Reactivated: only a user AtSync marked that way becomes normal again.
    /// </summary>
    private async Task MarkPhpbbUserAsync(string did, bool active, long time, CancellationToken ct)
    {
        await using var mark = Command(active
            ? $"""
              UPDATE {t.PhpbbUsers} u JOIN {t.Users} au ON au.user_id = u.user_id
              SET u.user_type = {PhpbbConstants.UserNormal}, u.user_inactive_reason = 0, u.user_inactive_time = 0
              WHERE au.did = @did AND u.user_type = {PhpbbConstants.UserInactive} AND u.user_inactive_reason = {PhpbbConstants.InactiveManual}
              """
            : $"""
              UPDATE {t.PhpbbUsers} u JOIN {t.Users} au ON au.user_id = u.user_id
              SET u.user_type = {PhpbbConstants.UserInactive}, u.user_inactive_reason = {PhpbbConstants.InactiveManual}, u.user_inactive_time = @time
              WHERE au.did = @did AND u.user_type = {PhpbbConstants.UserNormal}
              """);
        mark.Parameters.AddWithValue("@did", did);
        mark.Parameters.AddWithValue("@time", time);
        await mark.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    // ---- labels -----------------------------------------------------------------------------------------------

    private async Task ApplyLabelAsync(LabelRecord label, CancellationToken ct)
    {
        if (label.Src != labelerDid)
        {
            outcome.Skip(Outcomes.ForeignLabeler);
            return;
        }
        // The label columns are ASCII (AT identifiers, label values): a value that is not would fail the whole batch.
        if (!FitsAscii(label.Uri, 760) || !FitsAscii(label.Value, 128) || !FitsAscii(label.Src, 255) || (label.Cid is { } labelCid && !FitsAscii(labelCid, 128)))
        {
            outcome.Skip(Outcomes.InvalidLabel);
            return;
        }
        uint postId;
        await using (var find = Command($"SELECT post_id FROM {t.Posts} WHERE at_uri = @uri"))
        {
            find.Parameters.AddWithValue("@uri", label.Uri);
            var found = await find.ExecuteScalarAsync(ct).ConfigureAwait(false);
            if (found is null or DBNull)
            {
                outcome.Skip(Outcomes.UnmappedSubject);
                return;
            }
            postId = Convert.ToUInt32(found, CultureInfo.InvariantCulture);
        }
        var time = label.Created is { } created ? Unix(created) : 0;
        await using (var upsert = Command($"""
            INSERT INTO {t.Labels} (subject_uri, label_value, label_src, subject_cid, negated, expires_at, created_at, updated_at)
            VALUES (@uri, @val, @src, @cid, @neg, @exp, @time, @time)
            ON DUPLICATE KEY UPDATE subject_cid = @cid, negated = @neg, expires_at = @exp, updated_at = @time
            """))
        {
            upsert.Parameters.AddWithValue("@uri", label.Uri);
            upsert.Parameters.AddWithValue("@val", label.Value);
            upsert.Parameters.AddWithValue("@src", label.Src);
            upsert.Parameters.AddWithValue("@cid", label.Cid);
            upsert.Parameters.AddWithValue("@neg", label.Negated ? 1 : 0);
            // Rounded up: a label stays in force until the end of the second it expires in; one that expired before 1970
            // is stored as expired at 0 (the column is unsigned).
            upsert.Parameters.AddWithValue("@exp", label.Expires is { } expires ? Math.Max(0L, (long)Math.Ceiling(expires.ToUnixTimeMilliseconds() / 1000.0)) : null);
            upsert.Parameters.AddWithValue("@time", time);
            await upsert.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
        if (label.Value == HideLabel)
        {
            var changed = await UpdateVisibilityAsync(postId, time, ct).ConfigureAwait(false);
            outcome.Label(changed ? (label.Negated ? "unhidden" : "hidden") : "unchanged");
        }
        else
        {
            outcome.Label(label.Negated ? "negated" : "stored");
        }
    }

    // ---- cursor -----------------------------------------------------------------------------------------------

    public async Task SaveCursorAsync(string service, long cursor, long now, CancellationToken ct)
    {
        await using var save = Command($"""
            INSERT INTO {t.Cursors} (service, cursor_value, updated_at) VALUES (@service, @cursor, @now)
            ON DUPLICATE KEY UPDATE cursor_value = @cursor, updated_at = @now
            """);
        save.Parameters.AddWithValue("@service", service);
        save.Parameters.AddWithValue("@cursor", cursor);
        save.Parameters.AddWithValue("@now", now);
        await save.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    // ---- helpers ----------------------------------------------------------------------------------------------

    private async Task<uint?> ForumForAsync(string forumUri, CancellationToken ct)
    {
        if (_forums.TryGetValue(forumUri, out var known)) return known;
        var found = await FindForumAsync(forumUri, ct).ConfigureAwait(false);
        _forums[forumUri] = found;
        return found;
    }

    private async Task<uint?> FindForumAsync(string forumUri, CancellationToken ct)
    {
        await using var find = Command($"SELECT af.forum_id FROM {t.Forums} af JOIN {t.PhpbbForums} f ON f.forum_id = af.forum_id WHERE af.at_uri = @uri");
        find.Parameters.AddWithValue("@uri", forumUri);
        var value = await find.ExecuteScalarAsync(ct).ConfigureAwait(false);
        return value is null or DBNull ? null : Convert.ToUInt32(value, CultureInfo.InvariantCulture);
    }

    private async Task<(uint TopicId, uint ForumId, int Visibility)?> TopicOfAsync(string rootUri, CancellationToken ct)
    {
        await using var find = Command($"""
            SELECT p.topic_id, tp.forum_id, tp.topic_visibility FROM {t.Posts} ap JOIN {t.PhpbbPosts} p ON p.post_id = ap.post_id
            JOIN {t.PhpbbTopics} tp ON tp.topic_id = p.topic_id WHERE ap.at_uri = @uri
            """);
        find.Parameters.AddWithValue("@uri", rootUri);
        await using var reader = await find.ExecuteReaderAsync(ct).ConfigureAwait(false);
        if (!await reader.ReadAsync(ct).ConfigureAwait(false)) return null;
        return (Convert.ToUInt32(reader.GetValue(0), CultureInfo.InvariantCulture), Convert.ToUInt32(reader.GetValue(1), CultureInfo.InvariantCulture),
            Convert.ToInt32(reader.GetValue(2), CultureInfo.InvariantCulture));
    }

    private MySqlCommand Command(string sql) => new(sql, connection, transaction);

    /// <summary>Whether <paramref name="value"/> goes into an ASCII column of <paramref name="max"/> characters unchanged.</summary>
    private static bool FitsAscii(string value, int max) => value.Length <= max && System.Text.Ascii.IsValid(value);

    /// <summary>Free text from the network for an ASCII column: other characters as '?', cut to <paramref name="max"/>.</summary>
    private static string AsciiColumn(string value, int max)
    {
        var chars = value.Take(max).Select(c => char.IsAscii(c) && !char.IsControl(c) ? c : '?').ToArray();
        return new string(chars);
    }

    /// <summary>The post's time: the record's <c>createdAt</c> when it parses and is not after the event, else the event's time.</summary>
    public static long PostTime(string? createdAt, long eventTime)
    {
        if (createdAt is not null
            && DateTimeOffset.TryParse(createdAt, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var declared))
        {
            var seconds = declared.ToUnixTimeSeconds();
            if (seconds > 0 && seconds <= eventTime) return seconds;
        }
        return eventTime;
    }

    public static long Unix(DateTimeOffset time) => Math.Max(0, time.ToUnixTimeSeconds());
}
