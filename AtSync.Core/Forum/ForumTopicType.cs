namespace AtSync.Core.Forum;

/// <summary>
/// A record's <c>topicType</c> and phpBB's <c>topic_type</c>, both directions: <c>normal</c> POST_NORMAL 0,
/// <c>sticky</c> POST_STICKY 1, <c>announcement</c> POST_ANNOUNCE 2, <c>global</c> POST_GLOBAL 3. Anything else is normal.
/// </summary>
public static class ForumTopicType
{
    public const string Normal = "normal";
    public const string Sticky = "sticky";
    public const string Announcement = "announcement";
    public const string Global = "global";

    public static int ToPhpbb(string? topicType) => topicType switch
    {
        Sticky => PhpbbConstants.PostSticky,
        Announcement => PhpbbConstants.PostAnnounce,
        Global => PhpbbConstants.PostGlobal,
        _ => PhpbbConstants.PostNormal,
    };

    public static string FromPhpbb(int phpbbTopicType) => phpbbTopicType switch
    {
        PhpbbConstants.PostSticky => Sticky,
        PhpbbConstants.PostAnnounce => Announcement,
        PhpbbConstants.PostGlobal => Global,
        _ => Normal,
    };
}
