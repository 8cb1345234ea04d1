using AtSync.Core.Forum;
using AtSync.Core.Forum.Text;
using AtSync.Firehose.Apply.Mappings;
using AtSync.Firehose.Apply.Phpbb;
using AtSync.Firehose.Events;

namespace AtSync.Firehose.Apply.Appliers;

/// <summary>
/// A commit's <c>net.vza.forum.post</c> operation: a new topic or reply (<c>submit_post</c>), an edit, a delete (soft),
/// the echo of a post the QueueWorker published, or a reply parked until its topic arrives. Replays change nothing.
/// Records over the lexicon's limits are refused; creates and edits go through the posting policy (<see cref="PostingPolicy"/>).
/// </summary>
internal sealed class PostOpApplier(
    RecordRevisions revisions,
    PostMap posts,
    ParkedPosts parked,
    BoardMap boards,
    Authors authors,
    PhpbbPosts phpbb,
    PhpbbVisibility topics,
    PostVisibility visibility,
    PostingPolicy policy,
    BatchOutcome outcome)
{
    public async Task ApplyAsync(CommitEvent commit, ForumOp op, CancellationToken ct)
    {
        if (op.Collection != ForumLexicon.Post)
        {
            outcome.Skip(Outcomes.OtherCollection);
            return;
        }
        var uri = op.Uri(commit.Repo);
        var time = EventTimes.Unix(commit.Time);
        if (!await revisions.TryAdvanceAsync(uri, commit.Rev, ct))
        {
            outcome.Skip(Outcomes.StaleRevision);
            return;
        }
        if (op.Action == ForumOp.Delete)
        {
            await DeleteAsync(uri, time, ct);
            return;
        }
        if (op.Post is null || op.Problem is not null || op.Cid is null)
        {
            outcome.Skip(Outcomes.InvalidRecord);
            return;
        }
        if (RecordLimits.Refusal(op.Post) is { } tooLong)
        {
            // Over the lexicon's limits: not a valid record, so refused whole (never cut), and counted.
            outcome.Skip(tooLong);
            return;
        }
        if (await posts.LockByUriAsync(uri, ct) is { } mapped)
        {
            await UpdateMappedAsync(commit.Repo, mapped, op.Cid, op.Post, op.Action, time, ct);
        }
        else if (op.Post.IsReply && await parked.TryReplaceAsync(uri, op.Cid, op.Post, ct))
        {
            // A reply parked earlier and now edited: the parking row keeps the newest record.
            outcome.Apply(Outcomes.Parked);
        }
        else
        {
            await CreateAsync(commit.Repo, uri, op.Cid, op.Post, time, commit.SeqNumber, ct);
        }
    }

    /// <summary>
    /// The AT-URI is already a phpBB post. While its mapping is not confirmed (the QueueWorker published it and the
    /// network echoes it back), only the mapping's CID and sync status change. A confirmed post: a create or the same CID
    /// is a replay (nothing changes), an update with a new CID is an edit.
    /// </summary>
    private async Task UpdateMappedAsync(string did, MappedPost mapped, string cid, ForumPostRecord record, string action, long time, CancellationToken ct)
    {
        if (mapped.Status == SyncStatus.Deleted)
        {
            outcome.Skip(Outcomes.DeletedPost);
            return;
        }
        if (mapped.Confirmed && (mapped.Cid == cid || action == ForumOp.Create))
        {
            outcome.Skip(Outcomes.Duplicate);
            return;
        }
        if (!mapped.Confirmed)
        {
            await posts.ConfirmAsync(mapped.PostId, cid, time, ct);
            outcome.Apply(Outcomes.Echo);
            return;
        }
        var admission = await policy.AdmitAsync(did, time, ct);
        if (admission.Refusal is { } refusal)
        {
            outcome.Skip(refusal);
            return;
        }
        if (await phpbb.LockAsync(mapped.PostId, ct) is not { } location)
        {
            outcome.Skip(Outcomes.UnknownPost);
            return;
        }
        // An edit may change the topic's type only as its author could set it: back to normal too needs the right to
        // set a special type (a moderator's sticky stays when an ordinary author edits).
        var type = ForumTopicType.ToPhpbb(record.TopicType);
        var typeAllowed = await policy.AllowsTopicTypeAsync(did, location.PosterId, location.ForumId,
            type == PhpbbConstants.PostNormal ? PhpbbConstants.PostSticky : type, ct);
        if (!typeAllowed && type != PhpbbConstants.PostNormal) outcome.Skip(Outcomes.TopicTypeNotAllowed);
        await phpbb.EditAsync(mapped.PostId, location, PostContent.From(record, type), typeAllowed, time, ct);
        await posts.ConfirmAsync(mapped.PostId, cid, time, ct);
        outcome.Apply(Outcomes.Edit);
        if (await policy.ModeratedAsync(admission, location.ForumId, ct) && await topics.RequireReapprovalAsync(mapped.PostId, time, ct)) outcome.Apply(Outcomes.Unapproved);
    }

    private async Task CreateAsync(string did, string uri, string cid, ForumPostRecord record, long eventTime, long seq, CancellationToken ct)
    {
        if (await boards.ForumAsync(record.Forum.Uri, ct) is not { } board)
        {
            outcome.Skip(Outcomes.UnknownForum);
            return;
        }
        if (!board.Postable)
        {
            outcome.Skip(Outcomes.NotAPostableForum);
            return;
        }
        var forumId = board.ForumId;
        var admission = await policy.AdmitAsync(did, eventTime, ct);
        if (admission.Refusal is { } refusal)
        {
            outcome.Skip(refusal);
            return;
        }
        MappedTopic? topic = null;
        if (record.ReplyRoot is { } root)
        {
            topic = await posts.TopicOfAsync(root.Uri, ct);
            if (topic is null)
            {
                await parked.ParkAsync(did, uri, cid, record, root.Uri, eventTime, seq, ct);
                outcome.Apply(Outcomes.Parked);
                return;
            }
            forumId = topic.Value.ForumId;
        }
        else if (PhpbbSubject.Stored(record.Subject).Length == 0)
        {
            // Nothing left once control characters and spaces are out: phpBB refuses a topic without a subject.
            outcome.Skip(Outcomes.NoSubject);
            return;
        }

        var poster = await authors.EnsureAsync(did, eventTime, ct);
        var type = PhpbbConstants.PostNormal;
        if (topic is null && ForumTopicType.ToPhpbb(record.TopicType) is var asked and not PhpbbConstants.PostNormal)
        {
            // posting.php: a type the author may not set is refused; from the network the topic is posted as a normal one.
            if (await policy.AllowsTopicTypeAsync(did, poster.UserId, forumId, asked, ct)) type = asked;
            else outcome.Skip(Outcomes.TopicTypeNotAllowed);
        }
        var visibility = await policy.ModeratedAsync(admission, forumId, ct) ? PhpbbConstants.ItemUnapproved : PhpbbConstants.ItemApproved;
        var post = new NewPost(forumId, topic?.TopicId, poster, EventTimes.PostTime(record.CreatedAt, eventTime), PostContent.From(record, type), visibility);
        var submitted = await phpbb.SubmitAsync(post, ct);
        await posts.AddAsync(submitted.PostId, uri, cid, did, post.StartsTopic, eventTime, ct);
        outcome.Apply(post.StartsTopic ? Outcomes.Topic : Outcomes.Reply);
        if (!post.Approved) outcome.Apply(Outcomes.Unapproved);

        if (topic is { Visibility: not PhpbbConstants.ItemApproved })
        {
            // A reply into a topic that is soft-deleted (its only post deleted or hidden) brings the topic's state in line.
            await topics.ResyncTopicAsync(submitted.TopicId, forumId, eventTime, ct);
        }
        else if (post.StartsTopic)
        {
            foreach (var reply in await parked.TakeAsync(uri, ct))
            {
                if (reply.Record is null)
                {
                    outcome.Skip(Outcomes.InvalidRecord);
                    continue;
                }
                outcome.Apply(Outcomes.Unparked);
                await CreateAsync(reply.AuthorDid, reply.Uri, reply.Cid, reply.Record, reply.EventTime, reply.Seq, ct);
            }
        }
    }

    private async Task DeleteAsync(string uri, long time, CancellationToken ct)
    {
        if (await posts.LockByUriAsync(uri, ct) is not { } mapped)
        {
            if (await parked.RemoveAsync(uri, ct)) outcome.Apply(Outcomes.Delete);
            else outcome.Skip(Outcomes.UnknownPost);
            return;
        }
        if (mapped.Status == SyncStatus.Deleted)
        {
            outcome.Skip(Outcomes.Duplicate);
            return;
        }
        await posts.MarkDeletedAsync(mapped.PostId, time, ct);
        await visibility.UpdateAsync(mapped.PostId, time, ct);
        outcome.Apply(Outcomes.Delete);
    }
}
