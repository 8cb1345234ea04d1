namespace AtSync.Core.Forum;

/// <summary>
/// The forum's own AT account (<c>FORUM_DID</c>), which publishes the board records. Its session lives in
/// <c>atproto_users</c> like a member's, in the row with <see cref="UserId"/>: phpBB numbers its users from 1
/// (1 is the anonymous user), so no phpBB user, and no post's <c>poster_id</c>, is ever 0.
/// </summary>
public static class ForumAccount
{
    public const int UserId = 0;
}
