using AtSync.Core.Storage;
using MySqlConnector;

namespace AtSync.Linking.Phpbb;

/// <summary>A signed-in phpBB member.</summary>
public sealed record PhpbbMember(long UserId, string Username);

/// <summary>Why a request has no signed-in phpBB member.</summary>
public enum PhpbbSessionProblem
{
    NoSession,
    Anonymous,
    Expired,
    NotAllowed,
}

/// <summary>
/// Who is signed in to phpBB, from phpBB's own cookies (<c>{cookie_name}_sid</c>, <c>{cookie_name}_u</c>) checked
/// the way phpBB's <c>session_begin</c> checks them against <c>phpbb_sessions</c> and <c>phpbb_config</c>: the session
/// exists, is not older than <c>session_length</c> (+60 s, or <c>max_autologin_time</c> days for "remember me"
/// sessions when <c>allow_autologin</c> is on), matches the browser when <c>browser_check</c> is on, and is not the
/// anonymous user (id 1), a bot or an inactive account. phpBB's <c>ip_check</c> is not repeated: behind the front
/// door this service sees the proxy's address, not the member's.
/// </summary>
public sealed class PhpbbSessions(MySqlDataSource dataSource, AtSyncTables tables, TimeProvider time)
{
    public const long AnonymousUserId = 1;
    private const int UserInactive = 1;
    private const int UserIgnore = 2;

    public async Task<(PhpbbMember? Member, PhpbbSessionProblem? Problem)> IdentifyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var config = await ConfigAsync(connection, cancellationToken);
        var cookieName = config.GetValueOrDefault("cookie_name", "phpbb3");
        var sid = request.Cookies[cookieName + "_sid"];
        if (string.IsNullOrEmpty(sid) || sid.Length != 32 || !sid.All(char.IsAsciiHexDigitLower))
        {
            return (null, PhpbbSessionProblem.NoSession);
        }

        await using var command = new MySqlCommand($"""
            SELECT s.session_user_id, s.session_time, s.session_browser, s.session_autologin, u.user_type, u.username
            FROM {tables.PhpbbSessions} s JOIN {tables.PhpbbUsers} u ON u.user_id = s.session_user_id
            WHERE s.session_id = @sid
            """, connection);
        command.Parameters.AddWithValue("@sid", sid);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken)) return (null, PhpbbSessionProblem.NoSession);
        var userId = Convert.ToInt64(reader.GetValue(0));
        var sessionTime = Convert.ToInt64(reader.GetValue(1));
        var browser = reader.GetString(2);
        var autologin = Convert.ToInt32(reader.GetValue(3)) != 0;
        var userType = Convert.ToInt32(reader.GetValue(4));
        var username = reader.GetString(5);

        if (userId == AnonymousUserId) return (null, PhpbbSessionProblem.Anonymous);
        if (request.Cookies[cookieName + "_u"] is { } u && u != userId.ToString(System.Globalization.CultureInfo.InvariantCulture))
        {
            return (null, PhpbbSessionProblem.NoSession);
        }
        if (Number(config, "browser_check", 1) != 0 && !SameBrowser(browser, request.Headers.UserAgent.ToString()))
        {
            return (null, PhpbbSessionProblem.NoSession);
        }
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        var expired = autologin
            ? Number(config, "allow_autologin", 1) == 0
                || (Number(config, "max_autologin_time", 0) is > 0 and var days && sessionTime < now - 86400 * days + 60)
            : sessionTime < now - (Number(config, "session_length", 3600) + 60);
        if (expired) return (null, PhpbbSessionProblem.Expired);
        if (userType is UserIgnore or UserInactive) return (null, PhpbbSessionProblem.NotAllowed);
        return (new PhpbbMember(userId, username), null);
    }

    /// <summary>phpBB compares the first 149 characters, trimmed and lowercased.</summary>
    private static bool SameBrowser(string stored, string current)
    {
        static string Norm(string s) => (s.Length > 149 ? s[..149] : s).ToLowerInvariant().Trim();
        return Norm(stored) == Norm(current);
    }

    private static long Number(Dictionary<string, string> config, string name, long fallback) =>
        config.TryGetValue(name, out var v) && long.TryParse(v, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : fallback;

    private async Task<Dictionary<string, string>> ConfigAsync(MySqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new MySqlCommand($"""
            SELECT config_name, config_value FROM {tables.PhpbbConfig}
            WHERE config_name IN ('cookie_name', 'session_length', 'browser_check', 'allow_autologin', 'max_autologin_time')
            """, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var config = new Dictionary<string, string>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken)) config[reader.GetString(0)] = reader.GetString(1);
        return config;
    }
}
