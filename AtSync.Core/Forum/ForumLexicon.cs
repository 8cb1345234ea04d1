namespace AtSync.Core.Forum;

/// <summary>
/// The forum's lexicon names and limits (schemas in <c>lexicons/net.vza.forum.post.json</c> and
/// <c>lexicons/net.vza.forum.board.json</c>).
/// </summary>
public static class ForumLexicon
{
    /// <summary>Every forum collection starts with this; a commit's other ops are not the forum's.</summary>
    public const string CollectionPrefix = "net.vza.forum.";

    /// <summary>A post: a topic's first post (with <c>subject</c>) or a reply (with <c>reply.root</c>/<c>reply.parent</c>).</summary>
    public const string Post = "net.vza.forum.post";

    /// <summary>A board: one of phpBB's forums, published by the forum's own account.</summary>
    public const string Board = "net.vza.forum.board";

    /// <summary><c>text</c>: <c>maxLength</c> (UTF-8 bytes) and <c>maxGraphemes</c>.</summary>
    public const int MaxTextBytes = 100_000;

    public const int MaxTextGraphemes = 50_000;

    /// <summary><c>subject</c>: <c>maxLength</c> (UTF-8 bytes) and <c>maxGraphemes</c>.</summary>
    public const int MaxSubjectBytes = 255;

    public const int MaxSubjectGraphemes = 100;
}
