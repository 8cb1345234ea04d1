using AtSync.Core.Forum;
using AtSync.Firehose.Apply.Mappings;
using AtSync.Firehose.Apply.Phpbb;

namespace AtSync.Firehose.Apply.Appliers;

/// <summary>
/// A post's phpBB visibility from its AtSync state: soft-deleted while its record is deleted or a live <c>!hide</c>
/// label from the labeler covers it, approved otherwise (a post waiting in the moderation queue stays there until a moderator decides, unless its record is deleted) (<see cref="PhpbbVisibility"/> moves the counters).
/// </summary>
internal sealed class PostVisibility(PostMap posts, LabelRows labels, PhpbbVisibility phpbb, string labelerDid)
{
    public const string HiddenReason = "Hidden by moderation label";

    /// <summary>Returns whether the visibility changed.</summary>
    public async Task<bool> UpdateAsync(uint postId, long time, CancellationToken ct)
    {
        if (await posts.LockByPostAsync(postId, ct) is not { } mapped) return false;
        var deleted = mapped.Status == SyncStatus.Deleted;
        var hidden = !deleted && await labels.IsHiddenAsync(mapped.Uri, labelerDid, time, ct);
        return await phpbb.SetAsync(postId, visible: !deleted && !hidden, deleted ? "" : HiddenReason, time, ct, recordDeleted: deleted);
    }
}
