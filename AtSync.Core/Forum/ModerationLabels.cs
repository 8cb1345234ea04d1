namespace AtSync.Core.Forum;

/// <summary>Label values from the labeler (<c>LABELER_DID</c>) that change what phpBB shows.</summary>
public static class ModerationLabels
{
    /// <summary>The global <c>!hide</c> label: the post is soft-deleted while a live, non-negated one covers it.</summary>
    public const string Hide = "!hide";
}
