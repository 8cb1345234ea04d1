namespace AtSync.Core.Forum;

/// <summary>
/// phpBB 3.3's constants AtSync reads or writes (phpBB's <c>includes/constants.php</c>): one home, so a value such as
/// <c>ITEM_APPROVED</c> is never a bare number in SQL or code.
/// </summary>
public static class PhpbbConstants
{
    // post_visibility / topic_visibility
    public const int ItemUnapproved = 0;
    public const int ItemApproved = 1;
    public const int ItemDeleted = 2;
    public const int ItemReapprove = 3;

    // user_type
    public const int UserNormal = 0;
    public const int UserInactive = 1;

    // user_inactive_reason
    public const int InactiveManual = 3;

    /// <summary>The REGISTERED group's id in a fresh phpBB install.</summary>
    public const int RegisteredGroupId = 2;

    // topic_type
    public const int PostNormal = 0;
    public const int PostSticky = 1;
    public const int PostAnnounce = 2;
    public const int PostGlobal = 3;

    // forum_type
    public const int ForumCategory = 0;
    public const int ForumPost = 1;
    public const int ForumLink = 2;

    // forum_status
    public const int ItemLocked = 1;
}
