namespace AtSync.Firehose.Apply.Phpbb;

/// <summary>
/// phpBB 3.3's permission check (<c>phpbb/auth/auth.php</c>: <c>acl_raw_data_single_user</c>, <c>_set_group_hold_ary</c>,
/// <c>acl_get</c>) for one user, read from phpBB's tables rather than its cached <c>user_permissions</c> bitstring:
/// the user's own grants (<c>acl_users</c>) and those of every group the user is a full member of (<c>acl_groups</c> via
/// <c>user_group</c> with <c>user_pending = 0</c>, except where the user leads a group that skips permissions,
/// <c>group_skip_auth</c>), each either one option or a role's options (<c>acl_roles_data</c>).
/// </summary>
/// <remarks>
/// A setting is <c>ACL_YES</c> (1), <c>ACL_NEVER</c> (0) or <c>ACL_NO</c> (-1, which phpBB does not store). An option is
/// granted when some source says YES and none says NEVER: NEVER from any source wins. Local options (<c>f_…</c>) count in
/// the forum; an option that is also global (<c>m_approve</c>) is granted globally (forum 0) or in the forum. Founders
/// get every <c>a_</c> option from phpBB regardless; none of the options asked here is one, so founders are evaluated
/// like everyone else (phpBB's installer puts them in ADMINISTRATORS, whose roles grant these).
/// </remarks>
internal sealed class PhpbbAcl(ForumSession db)
{
    public const int AclYes = 1, AclNever = 0;

    /// <summary>Which of <paramref name="options"/> phpBB grants user <paramref name="userId"/> in forum <paramref name="forumId"/>.</summary>
    public async Task<IReadOnlySet<string>> GrantedAsync(uint userId, uint forumId, IReadOnlyList<string> options, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfZero(options.Count);
        var t = db.Tables;
        var names = string.Join(", ", options.Select((_, i) => $"@o{i}"));
        var groups = $"""
            {t.PhpbbAclGroups} a
            JOIN {t.PhpbbUserGroup} ug ON ug.group_id = a.group_id AND ug.user_id = @u AND ug.user_pending = 0
            JOIN {t.PhpbbGroups} g ON g.group_id = a.group_id AND NOT (ug.group_leader = 1 AND g.group_skip_auth = 1)
            """;
        var parameters = new List<(string, object?)> { ("@u", userId), ("@f", forumId) };
        parameters.AddRange(options.Select((o, i) => ($"@o{i}", (object?)o)));
        await using var read = db.Command($"""
            SELECT o.auth_option, MAX(s.setting = {AclYes}), MAX(s.setting = {AclNever})
            FROM (
              SELECT a.forum_id, a.auth_option_id AS option_id, a.auth_setting AS setting
                FROM {t.PhpbbAclUsers} a WHERE a.user_id = @u AND a.auth_role_id = 0
              UNION ALL
              SELECT a.forum_id, r.auth_option_id, r.auth_setting
                FROM {t.PhpbbAclUsers} a JOIN {t.PhpbbAclRolesData} r ON r.role_id = a.auth_role_id WHERE a.user_id = @u AND a.auth_role_id <> 0
              UNION ALL
              SELECT a.forum_id, a.auth_option_id, a.auth_setting FROM {groups} WHERE a.auth_role_id = 0
              UNION ALL
              SELECT a.forum_id, r.auth_option_id, r.auth_setting FROM {groups} JOIN {t.PhpbbAclRolesData} r ON r.role_id = a.auth_role_id WHERE a.auth_role_id <> 0
            ) s
            JOIN {t.PhpbbAclOptions} o ON o.auth_option_id = s.option_id
            WHERE o.auth_option IN ({names})
              AND ((s.forum_id = @f AND o.is_local = 1) OR (s.forum_id = 0 AND o.is_global = 1))
            GROUP BY o.auth_option, s.forum_id
            """, [.. parameters]);
        var granted = new HashSet<string>(StringComparer.Ordinal);
        await using var reader = await read.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            // Per scope (the forum, or globally): some YES and no NEVER.
            if (reader.Int32At(1) != 0 && reader.Int32At(2) == 0) granted.Add(reader.GetString(0));
        }
        return granted;
    }
}
