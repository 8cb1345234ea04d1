using AtSync.Core.Forum;
using AtSync.Firehose.Apply.Mappings;

namespace AtSync.Firehose.Apply.Appliers;

/// <summary>
/// A label from <c>LABELER_DID</c> on a mapped post is stored; <c>!hide</c> (and its negation) changes the post's
/// visibility. Labels from other sources, or on subjects that are no phpBB post, are skipped.
/// </summary>
internal sealed class LabelApplier(PostMap posts, LabelRows labels, PostVisibility visibility, string labelerDid, BatchOutcome outcome)
{
    public async Task ApplyAsync(LabelRecord label, CancellationToken ct)
    {
        if (label.Src != labelerDid)
        {
            outcome.Skip(Outcomes.ForeignLabeler);
            return;
        }
        if (!LabelRows.Fits(label))
        {
            // Not a label any labeler may send; written, it would fail the whole batch.
            outcome.Skip(Outcomes.InvalidLabel);
            return;
        }
        if (await posts.PostIdAsync(label.Uri, ct) is not { } postId)
        {
            outcome.Skip(Outcomes.UnmappedSubject);
            return;
        }
        var time = label.Created is { } created ? EventTimes.Unix(created) : 0;
        await labels.SaveAsync(label, time, ct);
        if (label.Value == ModerationLabels.Hide)
        {
            var changed = await visibility.UpdateAsync(postId, time, ct);
            outcome.Label(changed ? (label.Negated ? "unhidden" : "hidden") : "unchanged");
        }
        else
        {
            outcome.Label(label.Negated ? "negated" : "stored");
        }
    }
}
