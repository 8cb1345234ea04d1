namespace AtSync.Firehose;

/// <summary>
/// What a batch did, by action and by skip reason. Recorded in metrics only after the batch committed,
/// so a retried batch is counted once.
/// </summary>
public sealed class BatchOutcome
{
    public Dictionary<string, long> Applied { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, long> Skipped { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, long> Labels { get; } = new(StringComparer.Ordinal);

    public void Apply(string action) => Applied[action] = Applied.GetValueOrDefault(action) + 1;

    public void Skip(string reason, long count = 1) => Skipped[reason] = Skipped.GetValueOrDefault(reason) + count;

    public void Label(string outcome) => Labels[outcome] = Labels.GetValueOrDefault(outcome) + 1;

    /// <summary>Adds what <paramref name="other"/> counted.</summary>
    public void Add(BatchOutcome other)
    {
        ArgumentNullException.ThrowIfNull(other);
        foreach (var (k, v) in other.Applied) Applied[k] = Applied.GetValueOrDefault(k) + v;
        foreach (var (k, v) in other.Skipped) Skipped[k] = Skipped.GetValueOrDefault(k) + v;
        foreach (var (k, v) in other.Labels) Labels[k] = Labels.GetValueOrDefault(k) + v;
    }

    public void Record(FirehoseMetrics metrics)
    {
        foreach (var (action, count) in Applied) for (var i = 0; i < count; i++) metrics.ForumOpApplied(action);
        foreach (var (reason, count) in Skipped) metrics.Skipped(reason, count);
        foreach (var (outcome, count) in Labels) for (var i = 0; i < count; i++) metrics.Label(outcome);
    }
}

/// <summary>The names of <see cref="BatchOutcome"/> entries: metric tag values.</summary>
public static partial class Outcomes
{
    public const string Topic = "topic";
    public const string Reply = "reply";
    public const string Edit = "edit";
    public const string Delete = "delete";
    public const string Echo = "echo";
    public const string Parked = "parked";
    public const string Unparked = "unparked";
    public const string Identity = "identity";
    public const string Account = "account";

    public const string UnknownForum = "unknown_forum";

    /// <summary>A post to a category's or link's board: phpBB holds posts only in FORUM_POST forums.</summary>
    public const string NotAPostableForum = "not_a_postable_forum";
    public const string NoSubject = "no_subject";
    public const string InvalidRecord = "invalid_record";
    public const string OtherCollection = "other_collection";
    public const string Duplicate = "duplicate";
    public const string StaleRevision = "stale_revision";
    public const string UnknownPost = "unknown_post";
    public const string DeletedPost = "deleted_post";
    public const string AlreadyProcessed = "seq_not_after_cursor";
    public const string UnlinkedUser = "unlinked_user";
    public const string WriteFailed = "write_failed";
    public const string ForeignLabeler = "foreign_labeler";
    public const string UnmappedSubject = "unmapped_subject";
    public const string InvalidLabel = "invalid_label";
    public const string InvalidHandle = "invalid_handle";
    public const string BadSignature = "bad_signature";
    public const string UnverifiedSignature = "unverified_signature";

    /// <summary>A label from <c>LABELER_DID</c> without <c>sig</c>.</summary>
    public const string UnsignedLabel = "unsigned_label";

    /// <summary>A label whose <c>sig</c> does not verify with the labeler's <c>#atproto_label</c> key (tampered, other key).</summary>
    public const string BadLabelSignature = "bad_label_signature";

    /// <summary>A label that cannot be checked: the labeler's DID document has no usable <c>#atproto_label</c> key, or is gone.</summary>
    public const string UnverifiedLabel = "unverified_label";

    /// <summary>An <c>#identity</c> whose handle could not be checked now: the phpBB name stays as it was.</summary>
    public const string IdentityUnchecked = "identity_unchecked";
    public const string CommitRejected = "commit_rejected";
    public const string DuplicateCommit = "duplicate_commit";
    public const string AlreadyReflected = "already_reflected";
    public const string SyncIgnored = "sync_ignored";
}
