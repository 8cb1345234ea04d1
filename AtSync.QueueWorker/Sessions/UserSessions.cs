using System.Data;
using System.Net;
using AtSync.AtProto.OAuth;
using AtSync.AtProto.Xrpc;
using AtSync.Core.Forum;
using AtSync.Core.Settings;
using AtSync.Core.Storage;
using AtSync.Core.Tokens;
using AtSync.QueueWorker.Delivery;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace AtSync.QueueWorker.Sessions;

/// <summary>
/// Users' PDS sessions from <c>atproto_users</c>: decrypts the tokens, refreshes them (before expiry, or when the
/// PDS says <c>ExpiredToken</c>) under a row lock so that two workers never refresh one user at once, and stores the
/// new tokens sealed with the current key version (which also completes a key rotation).
/// </summary>
public sealed partial class UserSessions(
    MySqlDataSource dataSource,
    AtSyncTables tables,
    TokenCipher cipher,
    PdsClients pds,
    OAuthRefresher oauth,
    ForumAccountLogin forumLogin,
    QueueMetrics metrics,
    IOptions<QueueWorkerOptions> options,
    TimeProvider time,
    ILogger<UserSessions> logger)
{
    private static readonly HashSet<string> RevokedErrors = new(StringComparer.Ordinal)
    {
        "ExpiredToken", "InvalidToken", "AuthenticationRequired", "AuthMissing", "AccountTakedown", "AccountDeactivated",
    };

    private sealed record StoredUser(long UserId, string Did, string PdsUrl, string? Access, string? Refresh, long? ExpiresAt,
        SessionKind Kind, string? DpopKey, string? Issuer, string? TokenEndpoint);

    private const string UserColumns = "user_id, did, pds_url, access_token, refresh_token, token_expires_at, session_kind, dpop_key, auth_issuer, token_endpoint";

    /// <summary>What a refresh gave: new tokens to store, or why there are none.</summary>
    private abstract record Refresh
    {
        public sealed record Tokens(string Access, string RefreshToken, DateTimeOffset? ExpiresAt, string? Scope) : Refresh;

        public sealed record Failed(SessionProblem Problem) : Refresh;
    }

    /// <summary>Sessions for the given DIDs, refreshed when they expire soon; a problem for each DID that has none.</summary>
    public async Task<IReadOnlyDictionary<string, SessionResult>> GetAsync(
        IReadOnlyCollection<string> dids, CancellationToken cancellationToken)
    {
        var result = new Dictionary<string, SessionResult>(StringComparer.Ordinal);
        if (dids.Count == 0) return result;
        var users = new Dictionary<string, StoredUser>(StringComparer.Ordinal);
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
        {
            await using var command = new MySqlCommand { Connection = connection };
            var names = new List<string>();
            var i = 0;
            foreach (var did in dids)
            {
                names.Add("@d" + i);
                command.Parameters.AddWithValue("@d" + i++, did);
            }
            command.CommandText = $"SELECT {UserColumns} FROM {tables.Users} WHERE did IN ({string.Join(',', names)})";
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var user = ReadUser(reader);
                users[user.Did] = user;
            }
        }

        foreach (var did in dids)
        {
            if (!users.TryGetValue(did, out var user))
            {
                result[did] = new SessionProblem.NotLinked();
                continue;
            }
            result[did] = await OpenAsync(user, cancellationToken);
        }
        return result;
    }

    /// <summary>
    /// Refreshes after the PDS rejected <paramref name="stale"/>'s access token. When another worker already replaced
    /// the token, its new session is returned without calling the PDS.
    /// </summary>
    public Task<SessionResult> RefreshAsync(UserSession stale, CancellationToken cancellationToken) =>
        RefreshUnderLockAsync(stale.UserId, stale.StoredAccessToken, cancellationToken);

    private async Task<SessionResult> OpenAsync(StoredUser user, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(user.Access) || string.IsNullOrEmpty(user.Refresh))
        {
            return new SessionProblem.SignInRequired("no stored tokens");
        }
        if (!Uri.TryCreate(user.PdsUrl, UriKind.Absolute, out var pdsUrl) || pdsUrl.Scheme is not ("http" or "https"))
        {
            return new SessionProblem.SignInRequired("pds_url is not an http(s) URL");
        }
        var now = time.GetUtcNow();
        if (user.ExpiresAt is { } expires && DateTimeOffset.FromUnixTimeSeconds(expires) <= now + options.Value.RefreshAhead)
        {
            return await RefreshUnderLockAsync(user.UserId, user.Access, cancellationToken);
        }
        try
        {
            if (OpenKey(user) is SessionProblem noKey) return noKey;
            var session = new UserSession(user.UserId, user.Did, pdsUrl, cipher.Decrypt(user.Access), user.Access,
                user.ExpiresAt is { } e ? DateTimeOffset.FromUnixTimeSeconds(e) : null, KeyOf(user));
            if (cipher.NeedsReencryption(user.Access) || cipher.NeedsReencryption(user.Refresh))
            {
                await ReencryptAsync(user, cancellationToken);
            }
            return new SessionResult.Opened(session);
        }
        catch (TokenCipherException ex)
        {
            LogUndecryptable(user.Did, ex.Failure);
            return new SessionProblem.SignInRequired($"stored tokens cannot be decrypted ({ex.Failure})");
        }
    }

    private async Task<SessionResult> RefreshUnderLockAsync(long userId, string staleStoredAccess, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken);
        StoredUser? user = null;
        await using (var select = new MySqlCommand(
            $"SELECT {UserColumns} FROM {tables.Users} WHERE user_id = @id FOR UPDATE",
            connection, transaction))
        {
            select.Parameters.AddWithValue("@id", userId);
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken)) user = ReadUser(reader);
        }
        if (user is null) return new SessionProblem.NotLinked();
        if (string.IsNullOrEmpty(user.Access) || string.IsNullOrEmpty(user.Refresh))
        {
            return new SessionProblem.SignInRequired("no stored tokens");
        }
        var pdsUrl = new Uri(user.PdsUrl);
        var now = time.GetUtcNow();
        var freshEnough = user.ExpiresAt is not { } exp || DateTimeOffset.FromUnixTimeSeconds(exp) > now + options.Value.RefreshAhead;
        try
        {
            if (user.Access != staleStoredAccess && freshEnough)
            {
                // Another worker refreshed while this one waited for the lock.
                await transaction.CommitAsync(cancellationToken);
                if (OpenKey(user) is SessionProblem noKey) return noKey;
                return new SessionResult.Opened(new UserSession(user.UserId, user.Did, pdsUrl, cipher.Decrypt(user.Access), user.Access,
                    user.ExpiresAt is { } e ? DateTimeOffset.FromUnixTimeSeconds(e) : null, KeyOf(user)));
            }
            if (OpenKey(user) is SessionProblem missingKey) return missingKey;

            var refreshToken = cipher.Decrypt(user.Refresh);
            var dpopKey = KeyOf(user);
            var refreshed = dpopKey is not null
                ? await RefreshOAuthAsync(user, refreshToken, dpopKey, cancellationToken)
                : await RefreshAppPasswordAsync(user, pdsUrl, refreshToken, cancellationToken);
            if (refreshed is not Refresh.Tokens tokens) return ((Refresh.Failed)refreshed).Problem;

            var expiresAt = tokens.ExpiresAt;
            var storedAccess = cipher.Encrypt(tokens.Access);
            // The rotated refresh token is committed (under the row lock) before the new access token is used: a
            // crash after the refresh leaves the one token that is still good, and no other worker can spend the old one.
            await using (var update = new MySqlCommand($"""
                UPDATE {tables.Users} SET access_token = @access, refresh_token = @refresh, token_expires_at = @expires,
                    token_scope = COALESCE(@scope, token_scope), updated_at = @now
                WHERE user_id = @id
                """, connection, transaction))
            {
                update.Parameters.AddWithValue("@access", storedAccess);
                update.Parameters.AddWithValue("@refresh", cipher.Encrypt(tokens.RefreshToken));
                update.Parameters.AddWithValue("@scope", tokens.Scope);
                update.Parameters.AddWithValue("@expires", expiresAt?.ToUnixTimeSeconds());
                update.Parameters.AddWithValue("@now", now.ToUnixTimeSeconds());
                update.Parameters.AddWithValue("@id", user.UserId);
                await update.ExecuteNonQueryAsync(cancellationToken);
            }
            await transaction.CommitAsync(cancellationToken);
            metrics.TokenRefreshed("ok");
            LogRefreshed(user.Did, cipher.CurrentVersion);
            return new SessionResult.Opened(new UserSession(user.UserId, user.Did, pdsUrl, tokens.Access, storedAccess, expiresAt, dpopKey));
        }
        catch (TokenCipherException ex)
        {
            LogUndecryptable(user.Did, ex.Failure);
            return new SessionProblem.SignInRequired($"stored tokens cannot be decrypted ({ex.Failure})");
        }
    }

    /// <summary>Legacy app-password session: <c>com.atproto.server.refreshSession</c> at the PDS with the refresh JWT as bearer.</summary>
    private async Task<Refresh> RefreshAppPasswordAsync(StoredUser user, Uri pdsUrl, string refreshToken, CancellationToken cancellationToken)
    {
        SessionOutput output;
        try
        {
            output = (await pds.For(pdsUrl).RefreshSessionAsync(refreshToken, cancellationToken)).Value;
        }
        catch (XrpcException ex) when (ex.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.Unauthorized && RevokedErrors.Contains(ex.Error))
        {
            metrics.TokenRefreshed("revoked");
            if (user.UserId == ForumAccount.UserId && user.Did == forumLogin.Did)
            {
                // The forum account has its app password: a new session replaces the refused one (still under the row lock).
                LogForumSignInAgain(user.Did, ex.Error);
                return await SignInForumAgainAsync(cancellationToken);
            }
            LogRefreshRejected(user.Did, ex.Error);
            return new Refresh.Failed(new SessionProblem.SignInRequired($"the PDS rejected the refresh token ({ex.Error})"));
        }
        catch (XrpcException ex)
        {
            metrics.TokenRefreshed("failed");
            LogRefreshFailed(user.Did, ex.Error, (int?)ex.StatusCode);
            return new Refresh.Failed(new SessionProblem.Unavailable(ex.Message));
        }
        if (!string.Equals(output.Did, user.Did, StringComparison.Ordinal))
        {
            metrics.TokenRefreshed("failed");
            return new Refresh.Failed(new SessionProblem.SignInRequired("the refreshed session belongs to another DID"));
        }
        return new Refresh.Tokens(output.AccessJwt, output.RefreshJwt, JwtExpiry.Read(output.AccessJwt), null);
    }

    private async Task<Refresh> SignInForumAgainAsync(CancellationToken cancellationToken) => await forumLogin.SignInAsync(cancellationToken) switch
    {
        ForumSignIn.Signed signed => new Refresh.Tokens(signed.Session.AccessJwt, signed.Session.RefreshJwt, JwtExpiry.Read(signed.Session.AccessJwt), null),
        ForumSignIn.Refused refused => new Refresh.Failed(new SessionProblem.SignInRequired(refused.Line)),
        ForumSignIn.Unavailable unavailable => new Refresh.Failed(new SessionProblem.Unavailable(unavailable.Error)),
        _ => throw new InvalidOperationException("unknown sign-in result"),
    };

    /// <summary>OAuth session: the authorization server's token endpoint, DPoP-signed with the session's key.</summary>
    private async Task<Refresh> RefreshOAuthAsync(StoredUser user, string refreshToken, DpopKey dpopKey, CancellationToken cancellationToken)
    {
        if (!oauth.IsConfigured)
        {
            metrics.TokenRefreshed("failed");
            LogOAuthNotConfigured(user.Did);
            return new Refresh.Failed(new SessionProblem.Unavailable($"OAuth sessions need {OAuthClientConfiguration.PublicUrlName} to refresh"));
        }
        if (!Uri.TryCreate(user.TokenEndpoint, UriKind.Absolute, out var tokenEndpoint) || tokenEndpoint.Scheme is not ("http" or "https")
            || string.IsNullOrEmpty(user.Issuer))
        {
            return new Refresh.Failed(new SessionProblem.SignInRequired("the stored OAuth session names no token endpoint"));
        }
        TokenSet tokens;
        try
        {
            tokens = await oauth.RefreshAsync(tokenEndpoint, user.Issuer, refreshToken, dpopKey, cancellationToken);
        }
        catch (OAuthException ex) when (ex.IsInvalidGrant)
        {
            metrics.TokenRefreshed("revoked");
            LogRefreshRejected(user.Did, ex.Error);
            return new Refresh.Failed(new SessionProblem.SignInRequired($"the authorization server rejected the refresh token ({ex.Error})"));
        }
        catch (OAuthException ex)
        {
            metrics.TokenRefreshed("failed");
            LogRefreshFailed(user.Did, ex.Error, (int?)ex.StatusCode);
            return new Refresh.Failed(new SessionProblem.Unavailable(ex.Message));
        }
        if (tokens.Subject.Value != user.Did)
        {
            metrics.TokenRefreshed("failed");
            return new Refresh.Failed(new SessionProblem.SignInRequired("the refreshed session belongs to another DID"));
        }
        // AT OAuth servers rotate refresh tokens; one that did not keeps the old (still valid) one.
        return new Refresh.Tokens(tokens.AccessToken, tokens.RefreshToken ?? refreshToken, tokens.ExpiresAt, tokens.Scope);
    }

    /// <summary>An OAuth session's DPoP key must be there and open; a problem when it is not (the user must sign in again).</summary>
    private SessionProblem? OpenKey(StoredUser user)
    {
        if (user.Kind != SessionKind.OAuth) return null;
        if (string.IsNullOrEmpty(user.DpopKey)) return new SessionProblem.SignInRequired("the OAuth session has no DPoP key");
        try
        {
            _ = KeyOf(user);
            return null;
        }
        catch (ArgumentException)
        {
            return new SessionProblem.SignInRequired("the stored DPoP key is not usable");
        }
    }

    private DpopKey? KeyOf(StoredUser user) =>
        user.Kind == SessionKind.OAuth && !string.IsNullOrEmpty(user.DpopKey) ? DpopKey.ImportPrivateKey(cipher.Decrypt(user.DpopKey)) : null;

    private async Task ReencryptAsync(StoredUser user, CancellationToken cancellationToken)
    {
        // Optimistic: only when nobody changed the tokens meanwhile.
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var update = new MySqlCommand($"""
            UPDATE {tables.Users} SET access_token = @access, refresh_token = @refresh, updated_at = @now
            WHERE user_id = @id AND access_token = @oldAccess AND refresh_token = @oldRefresh
            """, connection);
        update.Parameters.AddWithValue("@access", cipher.Reencrypt(user.Access!));
        update.Parameters.AddWithValue("@refresh", cipher.Reencrypt(user.Refresh!));
        update.Parameters.AddWithValue("@now", time.GetUtcNow().ToUnixTimeSeconds());
        update.Parameters.AddWithValue("@id", user.UserId);
        update.Parameters.AddWithValue("@oldAccess", user.Access);
        update.Parameters.AddWithValue("@oldRefresh", user.Refresh);
        if (await update.ExecuteNonQueryAsync(cancellationToken) == 1)
        {
            LogReencrypted(user.Did, cipher.CurrentVersion);
        }
    }

    private static StoredUser ReadUser(MySqlDataReader reader) => new(
        Convert.ToInt64(reader.GetValue(0)),
        reader.GetString(1),
        reader.GetString(2),
        reader.IsDBNull(3) ? null : reader.GetString(3),
        reader.IsDBNull(4) ? null : reader.GetString(4),
        reader.IsDBNull(5) ? null : Convert.ToInt64(reader.GetValue(5)),
        SessionKinds.Parse(reader.GetString(6)),
        reader.IsDBNull(7) ? null : reader.GetString(7),
        reader.IsDBNull(8) ? null : reader.GetString(8),
        reader.IsDBNull(9) ? null : reader.GetString(9));

    [LoggerMessage(Level = LogLevel.Information, Message = "Refreshed the PDS session of {Did}; tokens stored with key version {KeyVersion}")]
    private partial void LogRefreshed(string did, string keyVersion);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The PDS rejected the refresh token of the forum account {Did} ({Error}): signing in again with its app password")]
    private partial void LogForumSignInAgain(string did, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The PDS rejected the refresh token of {Did} ({Error}): the user must sign in again")]
    private partial void LogRefreshRejected(string did, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refreshing the PDS session of {Did} failed ({Error}, status {Status}); will retry")]
    private partial void LogRefreshFailed(string did, string error, int? status);

    [LoggerMessage(Level = LogLevel.Error, Message = "The stored tokens of {Did} cannot be decrypted ({Failure})")]
    private partial void LogUndecryptable(string did, TokenCipherFailure failure);

    [LoggerMessage(Level = LogLevel.Error, Message = "The OAuth session of {Did} cannot be refreshed: LINKING_PUBLIC_URL (and OAUTH_CLIENT_KEY for a confidential client) are not set")]
    private partial void LogOAuthNotConfigured(string did);

    [LoggerMessage(Level = LogLevel.Information, Message = "Re-encrypted the stored tokens of {Did} with key version {KeyVersion}")]
    private partial void LogReencrypted(string did, string keyVersion);
}
