using AtSync.Tests.Infrastructure;

namespace AtSync.Tests.Linking;

/// <summary>
/// phpBB 3.3's <c>sessions</c> and <c>config</c> tables (as its installer creates them, from phpBB's schema) and the
/// rows phpBB writes when a member signs in: what the linking service reads to know who is signed in.
/// </summary>
public static class PhpbbSessionTables
{
    public const string CookieName = "phpbb3_atsync";
    public const string UserAgent = "Mozilla/5.0 (X11; Linux x86_64) AtSyncTest/1.0 Chrome/156.0 Safari/537.36";

    public static async Task CreateAsync(TestDatabase database)
    {
        var p = database.Prefix;
        await database.ExecuteAsync($"""
            CREATE TABLE {p}sessions (
              session_id char(32) DEFAULT '' NOT NULL,
              session_user_id int(10) UNSIGNED DEFAULT '0' NOT NULL,
              session_last_visit int(11) UNSIGNED DEFAULT '0' NOT NULL,
              session_start int(11) UNSIGNED DEFAULT '0' NOT NULL,
              session_time int(11) UNSIGNED DEFAULT '0' NOT NULL,
              session_ip varchar(40) DEFAULT '' NOT NULL,
              session_browser varchar(150) DEFAULT '' NOT NULL,
              session_forwarded_for varchar(255) DEFAULT '' NOT NULL,
              session_page varchar(255) DEFAULT '' NOT NULL,
              session_viewonline tinyint(1) UNSIGNED DEFAULT '1' NOT NULL,
              session_autologin tinyint(1) UNSIGNED DEFAULT '0' NOT NULL,
              session_admin tinyint(1) UNSIGNED DEFAULT '0' NOT NULL,
              session_forum_id mediumint(8) UNSIGNED DEFAULT '0' NOT NULL,
              PRIMARY KEY (session_id),
              KEY session_time (session_time),
              KEY session_user_id (session_user_id),
              KEY session_fid (session_forum_id)
            ) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin
            """);
        await database.ExecuteAsync($"""
            CREATE TABLE {p}config (
              config_name varchar(255) DEFAULT '' NOT NULL,
              config_value varchar(255) DEFAULT '' NOT NULL,
              is_dynamic tinyint(1) UNSIGNED DEFAULT '0' NOT NULL,
              PRIMARY KEY (config_name),
              KEY is_dynamic (is_dynamic)
            ) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin
            """);
        await database.ExecuteAsync($"""
            INSERT INTO {p}config (config_name, config_value) VALUES
              ('cookie_name', '{CookieName}'), ('session_length', '3600'), ('browser_check', '1'),
              ('allow_autologin', '1'), ('max_autologin_time', '0'), ('ip_check', '3')
            """);
        // phpBB's installer creates the anonymous user (id 1, user_type 2 = USER_IGNORE).
        await database.ExecuteAsync($"INSERT INTO {p}users (user_id, user_type, username, username_clean, user_permissions, user_sig) VALUES (1, 2, 'Anonymous', 'anonymous', '', '')");
    }

    /// <summary>A member and a fresh session of theirs, as phpBB's login writes it; returns the session id (the <c>_sid</c> cookie).</summary>
    public static async Task<string> SignInAsync(TestDatabase database, long userId, string? username = null, long? sessionTime = null, bool createUser = true)
    {
        var p = database.Prefix;
        if (createUser)
        {
            var name = username ?? $"member{userId}";
            await database.ExecuteAsync($"INSERT INTO {p}users (user_id, user_type, username, username_clean, user_permissions, user_sig) VALUES ({userId}, 0, '{name}', '{name.ToLowerInvariant()}', '', '')");
        }
        var sid = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
        var time = sessionTime ?? DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        await database.ExecuteAsync($"""
            INSERT INTO {p}sessions (session_id, session_user_id, session_start, session_time, session_ip, session_browser, session_page)
            VALUES ('{sid}', {userId}, {time}, {time}, '127.0.0.1', '{UserAgent}', 'index.php')
            """);
        return sid;
    }
}
