using AtSync.Core.Forum;

namespace AtSync.Firehose.Apply.Phpbb;

/// <summary>What phpBB lets a user do with a topic type in a forum (<see cref="PhpbbPermissions.TopicRightsAsync"/>).</summary>
internal readonly record struct TopicRights(bool Sticky, bool Announce, bool GlobalAnnounce)
{
    /// <summary>posting.php: <c>f_sticky</c>, <c>f_announce</c>, <c>f_announce_global</c> for the topic's type.</summary>
    public bool Allows(int topicType) => topicType switch
    {
        PhpbbConstants.PostNormal => true,
        PhpbbConstants.PostSticky => Sticky,
        PhpbbConstants.PostAnnounce => Announce,
        PhpbbConstants.PostGlobal => GlobalAnnounce,
        _ => false,
    };
}

/// <summary>
/// phpBB's own answers about a user, from its tables: bans (<c>user/session.php</c> <c>check_ban</c> on
/// <c>phpbb_banlist</c>) and what its permissions let the user do when posting (<see cref="PhpbbAcl"/>).
/// </summary>
internal sealed class PhpbbPermissions(ForumSession db)
{
    private readonly PhpbbAcl _acl = new(db);

    /// <summary>
    /// <c>check_ban</c> for a user: a ban on the user id or one whose email pattern (<c>*</c> wildcards, any case)
    /// matches the user's email, not expired (<c>ban_end</c> 0 or later than now); an exclusion that matches wins.
    /// </summary>
    public async Task<bool> IsBannedAsync(uint userId, long now, CancellationToken ct)
    {
        var t = db.Tables;
        return await db.CountAsync($"""
            SELECT COALESCE(MAX(b.ban_exclude = 0), 0) * (1 - COALESCE(MAX(b.ban_exclude = 1), 0))
            FROM {t.PhpbbBanlist} b JOIN {t.PhpbbUsers} u ON u.user_id = @id
            WHERE (b.ban_end = 0 OR b.ban_end >= @now)
              AND (b.ban_userid = u.user_id
                OR (b.ban_email <> '' AND u.user_email <> ''
                  AND LOWER(u.user_email) LIKE REPLACE(REPLACE(REPLACE(LOWER(b.ban_email), '%', '\\%'), '_', '\\_'), '*', '%')))
            """, ct, ("@id", userId), ("@now", now)) > 0;
    }

    /// <summary>The topic types phpBB's permissions (<see cref="PhpbbAcl"/>) let the user give a topic in the forum.</summary>
    public async Task<TopicRights> TopicRightsAsync(uint userId, uint forumId, CancellationToken ct)
    {
        var granted = await _acl.GrantedAsync(userId, forumId, ["f_sticky", "f_announce", "f_announce_global"], ct);
        return new TopicRights(granted.Contains("f_sticky"), granted.Contains("f_announce"), granted.Contains("f_announce_global"));
    }

    /// <summary>
    /// submit_post: a post (or an edit) is approved at once when its author has <c>f_noapprove</c> or <c>m_approve</c>
    /// in the forum; otherwise it waits in the moderation queue.
    /// </summary>
    public async Task<bool> PostsWithoutApprovalAsync(uint userId, uint forumId, CancellationToken ct) =>
        (await _acl.GrantedAsync(userId, forumId, ["f_noapprove", "m_approve"], ct)).Count > 0;
}
