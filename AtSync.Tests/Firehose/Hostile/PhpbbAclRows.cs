using AtSync.Tests.Infrastructure;

namespace AtSync.Tests.Firehose.Hostile;

/// <summary>
/// phpBB 3.3's permission rows as its ACP writes them: options (<c>acl_options</c>), roles (<c>acl_roles_data</c>),
/// groups and memberships (<c>groups</c>, <c>user_group</c>) and grants to users and groups per forum
/// (<c>acl_users</c>, <c>acl_groups</c>; 0 is the global scope). Settings: <see cref="Yes"/> or <see cref="Never"/>
/// (phpBB does not store ACL_NO).
/// </summary>
public sealed class PhpbbAclRows(TestDatabase database)
{
    public const int Yes = 1, Never = 0;

    /// <summary>The option's id, adding it (local-only unless <paramref name="global"/>) the first time.</summary>
    public async Task<long> OptionAsync(string name, bool global = false, bool local = true)
    {
        var t = database.Tables;
        await database.ExecuteAsync($"""
            INSERT IGNORE INTO {t.PhpbbAclOptions} (auth_option, is_global, is_local, founder_only) VALUES ('{name}', {(global ? 1 : 0)}, {(local ? 1 : 0)}, 0)
            """);
        return await database.ScalarAsync<long>($"SELECT auth_option_id FROM {t.PhpbbAclOptions} WHERE auth_option = '{name}'");
    }

    public async Task RoleAsync(long roleId, params (string Option, int Setting)[] settings)
    {
        foreach (var (option, setting) in settings)
        {
            var id = await OptionAsync(option);
            await database.ExecuteAsync($"INSERT INTO {database.Tables.PhpbbAclRolesData} (role_id, auth_option_id, auth_setting) VALUES ({roleId}, {id}, {setting})");
        }
    }

    public async Task<long> GroupAsync(string name, bool skipAuth = false)
    {
        var t = database.Tables;
        var id = await database.ScalarAsync<long>($"SELECT COALESCE(MAX(group_id), 0) + 1 FROM {t.PhpbbGroups}");
        await database.ExecuteAsync($"INSERT INTO {t.PhpbbGroups} (group_id, group_type, group_skip_auth, group_name, group_desc) VALUES ({id}, 0, {(skipAuth ? 1 : 0)}, '{name}', '')");
        return id;
    }

    public Task JoinAsync(long groupId, long userId, bool pending = false, bool leader = false) =>
        database.ExecuteAsync($"INSERT INTO {database.Tables.PhpbbUserGroup} (group_id, user_id, group_leader, user_pending) VALUES ({groupId}, {userId}, {(leader ? 1 : 0)}, {(pending ? 1 : 0)})");

    public Task GroupRoleAsync(long groupId, long forumId, long roleId) =>
        database.ExecuteAsync($"INSERT INTO {database.Tables.PhpbbAclGroups} (group_id, forum_id, auth_option_id, auth_role_id, auth_setting) VALUES ({groupId}, {forumId}, 0, {roleId}, 0)");

    public async Task GroupGrantAsync(long groupId, long forumId, string option, int setting) =>
        await database.ExecuteAsync($"INSERT INTO {database.Tables.PhpbbAclGroups} (group_id, forum_id, auth_option_id, auth_role_id, auth_setting) VALUES ({groupId}, {forumId}, {await OptionAsync(option)}, 0, {setting})");

    public async Task UserGrantAsync(long userId, long forumId, string option, int setting) =>
        await database.ExecuteAsync($"INSERT INTO {database.Tables.PhpbbAclUsers} (user_id, forum_id, auth_option_id, auth_role_id, auth_setting) VALUES ({userId}, {forumId}, {await OptionAsync(option)}, 0, {setting})");

    public Task UserRoleAsync(long userId, long forumId, long roleId) =>
        database.ExecuteAsync($"INSERT INTO {database.Tables.PhpbbAclUsers} (user_id, forum_id, auth_option_id, auth_role_id, auth_setting) VALUES ({userId}, {forumId}, 0, {roleId}, 0)");
}
