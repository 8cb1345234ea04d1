using AtSync.Core.Forum;
using AtSync.Core.Forum.Text;

namespace AtSync.Firehose.Apply.Appliers;

/// <summary>
/// The string limits of <c>net.vza.forum.post</c> (lexicons/net.vza.forum.post.json, <see cref="LexiconLimits"/>): a
/// record over them is not a valid record, so it is refused whole, as the lexicon says, with the reason counted.
/// </summary>
internal static class RecordLimits
{
    /// <summary>The skip reason, or null when the record is within its limits.</summary>
    public static string? Refusal(ForumPostRecord record) =>
        LexiconLimits.Check(record.Text, LexiconLimits.PostText) != LexiconLength.Within ? Outcomes.TextTooLong
        : record.Subject is { } subject && LexiconLimits.Check(subject, LexiconLimits.PostSubject) != LexiconLength.Within ? Outcomes.SubjectTooLong
        : null;
}
