using AtSync.Core.Forum;

namespace AtSync.Firehose.Apply.Phpbb;

/// <summary>What phpBB lets a user do with a topic type in a forum (<see cref="PhpbbPermissions.TopicRightsAsync"/>).</summary>
internal readonly record struct TopicRights(bool BoardStaff, bool GlobalStaff)
{
    /// <summary>
    /// posting.php checks <c>f_sticky</c>, <c>f_announce</c>, <c>f_announce_global</c>; phpBB's default roles give the first
    /// two to the board's moderators and all three to administrators and global moderators ("Full access").
    /// </summary>
    public bool Allows(int topicType) => topicType switch
    {
        PhpbbConstants.PostNormal => true,
        PhpbbConstants.PostGlobal => GlobalStaff,
        _ => GlobalStaff || BoardStaff,
    };
}

/// <summary>
/// phpBB's own answers about a user, from its tables: bans (<c>user/session.php</c> <c>check_ban</c> on
/// <c>phpbb_banlist</c>) and who moderates or administers (<c>phpbb_moderator_cache</c>, which phpBB keeps from its
/// permissions; founders, <c>user_type</c> USER_FOUNDER; the special groups ADMINISTRATORS and GLOBAL_MODERATORS).
/// </summary>
internal sealed class PhpbbPermissions(ForumSession db)
{
    private const int UserFounder = 3;
    private const int GroupSpecial = 3;

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

    public async Task<TopicRights> TopicRightsAsync(uint userId, uint forumId, CancellationToken ct)
    {
        var t = db.Tables;
        var memberOf = $"SELECT ug.group_id FROM {t.PhpbbUserGroup} ug WHERE ug.user_id = u.user_id AND ug.user_pending = 0";
        await using var read = db.Command($"""
            SELECT u.user_type = {UserFounder} OR EXISTS (
                     SELECT 1 FROM {t.PhpbbGroups} g WHERE g.group_type = {GroupSpecial} AND g.group_name IN ('ADMINISTRATORS', 'GLOBAL_MODERATORS')
                       AND g.group_id IN ({memberOf})),
                   EXISTS (SELECT 1 FROM {t.PhpbbModeratorCache} m WHERE m.forum_id = @forum
                       AND (m.user_id = u.user_id OR (m.group_id <> 0 AND m.group_id IN ({memberOf}))))
            FROM {t.PhpbbUsers} u WHERE u.user_id = @id
            """, ("@id", userId), ("@forum", forumId));
        await using var reader = await read.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct)) return default;
        return new TopicRights(BoardStaff: reader.Int32At(1) != 0, GlobalStaff: reader.Int32At(0) != 0);
    }
}
