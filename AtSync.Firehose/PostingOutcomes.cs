namespace AtSync.Firehose;

/// <summary>The posting policy's and the lexicon limits' entries of <see cref="BatchOutcome"/> (README "Posting policy").</summary>
public static partial class Outcomes
{
    /// <summary>A topic or reply stored waiting in phpBB's moderation queue (or an edit sent back to it): an applied action.</summary>
    public const string Unapproved = "unapproved";

    public const string TextTooLong = "text_too_long";
    public const string SubjectTooLong = "subject_too_long";
    public const string BannedDid = "banned_did";
    public const string BannedUser = "banned_user";
    public const string UnknownPoster = "unknown_poster";

    /// <summary>A sticky/announcement/global type the author may not set: the topic is posted (or kept) as phpBB allows.</summary>
    public const string TopicTypeNotAllowed = "topic_type_not_allowed";
}
