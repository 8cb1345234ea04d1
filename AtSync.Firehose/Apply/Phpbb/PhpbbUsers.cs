using AtSync.Core.Forum;
using AtSync.Core.Forum.Text;

namespace AtSync.Firehose.Apply.Phpbb;

/// <summary>
/// phpBB users for authors who come from the network: created as normal members of REGISTERED under a free username
/// (<see cref="PhpbbUsernames"/>); deactivated accounts become inactive (<c>USER_INACTIVE</c>, <c>INACTIVE_MANUAL</c>).
/// </summary>
internal sealed class PhpbbUsers(ForumSession db)
{
    /// <summary>Creates a user named <paramref name="preferred"/>, or <c>preferred (2)</c>, … when that name is taken.</summary>
    public async Task<PhpbbUser> CreateAsync(string preferred, long time, CancellationToken ct)
    {
        var t = db.Tables;
        string username, clean;
        for (var attempt = 1; ; attempt++)
        {
            username = PhpbbSubject.Username(PhpbbUsernames.Candidate(preferred, attempt));
            clean = PhpbbUsernames.Clean(username);
            if (await db.CountAsync($"SELECT COUNT(*) FROM {t.PhpbbUsers} WHERE username_clean = @clean", ct, ("@clean", clean)) == 0) break;
        }
        await using var insert = db.Command($"""
            INSERT INTO {t.PhpbbUsers} (user_type, group_id, user_permissions, user_regdate, username, username_clean, user_email,
              user_lang, user_timezone, user_sig, user_new)
            VALUES ({PhpbbConstants.UserNormal}, {PhpbbConstants.RegisteredGroupId}, '', @time, @username, @clean, '', 'en', 'UTC', '', 0)
            """, ("@time", time), ("@username", username), ("@clean", clean));
        await insert.ExecuteNonQueryAsync(ct);
        return new PhpbbUser(checked((uint)insert.LastInsertedId), username, "");
    }

    /// <summary>
    /// Deactivated: a normal user becomes inactive (<c>USER_INACTIVE</c>, reason <c>INACTIVE_MANUAL</c>); their posts stay.
    /// Reactivated: only a user marked that way becomes normal again.
    /// </summary>
    public Task SetActiveAsync(uint userId, bool active, long time, CancellationToken ct) =>
        db.ExecuteAsync(active
            ? $"""
              UPDATE {db.Tables.PhpbbUsers} SET user_type = {PhpbbConstants.UserNormal}, user_inactive_reason = 0, user_inactive_time = 0
              WHERE user_id = @id AND user_type = {PhpbbConstants.UserInactive} AND user_inactive_reason = {PhpbbConstants.InactiveManual}
              """
            : $"""
              UPDATE {db.Tables.PhpbbUsers} SET user_type = {PhpbbConstants.UserInactive}, user_inactive_reason = {PhpbbConstants.InactiveManual}, user_inactive_time = @time
              WHERE user_id = @id AND user_type = {PhpbbConstants.UserNormal}
              """, ct, ("@id", userId), ("@time", time));
}
