namespace AtSync.Core.Forum;

/// <summary>Label values from the labeler (<c>LABELER_DID</c>) that change what phpBB shows.</summary>
public static class ModerationLabels
{
    /// <summary>The global <c>!hide</c> label: the post is soft-deleted while a live, non-negated one covers it.</summary>
    public const string Hide = "!hide";
}

/// <summary>
/// One label of a labeler's <c>#labels</c> message, as AtSync applies it: its source DID, subject URI (and CID), value,
/// whether it negates an earlier one, and its creation and expiry times.
/// </summary>
public sealed record LabelRecord(string Src, string Uri, string? Cid, string Value, bool Negated, DateTimeOffset? Created, DateTimeOffset? Expires);
