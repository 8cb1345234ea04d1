using System.Data;
using System.Net;
using AtSync.AtProto.Xrpc;
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
    QueueMetrics metrics,
    IOptions<QueueWorkerOptions> options,
    TimeProvider time,
    ILogger<UserSessions> logger)
{
    private static readonly HashSet<string> RevokedErrors = new(StringComparer.Ordinal)
    {
        "ExpiredToken", "InvalidToken", "AuthenticationRequired", "AuthMissing", "AccountTakedown", "AccountDeactivated",
    };

    private sealed record StoredUser(long UserId, string Did, string PdsUrl, string? Access, string? Refresh, long? ExpiresAt);

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
            command.CommandText = $"SELECT user_id, did, pds_url, access_token, refresh_token, token_expires_at FROM {tables.Users} WHERE did IN ({string.Join(',', names)})";
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
            var session = new UserSession(user.UserId, user.Did, pdsUrl, cipher.Decrypt(user.Access), user.Access,
                user.ExpiresAt is { } e ? DateTimeOffset.FromUnixTimeSeconds(e) : null);
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
            $"SELECT user_id, did, pds_url, access_token, refresh_token, token_expires_at FROM {tables.Users} WHERE user_id = @id FOR UPDATE",
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
                return new SessionResult.Opened(new UserSession(user.UserId, user.Did, pdsUrl, cipher.Decrypt(user.Access), user.Access,
                    user.ExpiresAt is { } e ? DateTimeOffset.FromUnixTimeSeconds(e) : null));
            }

            var refreshToken = cipher.Decrypt(user.Refresh);
            SessionOutput output;
            try
            {
                output = (await pds.For(pdsUrl).RefreshSessionAsync(refreshToken, cancellationToken)).Value;
            }
            catch (XrpcException ex) when (ex.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.Unauthorized && RevokedErrors.Contains(ex.Error))
            {
                metrics.TokenRefreshed("revoked");
                LogRefreshRejected(user.Did, ex.Error);
                return new SessionProblem.SignInRequired($"the PDS rejected the refresh token ({ex.Error})");
            }
            catch (XrpcException ex)
            {
                metrics.TokenRefreshed("failed");
                LogRefreshFailed(user.Did, ex.Error, (int?)ex.StatusCode);
                return new SessionProblem.Unavailable(ex.Message);
            }
            if (!string.Equals(output.Did, user.Did, StringComparison.Ordinal))
            {
                metrics.TokenRefreshed("failed");
                return new SessionProblem.SignInRequired("the refreshed session belongs to another DID");
            }

            var expiresAt = JwtExpiry.Read(output.AccessJwt);
            var storedAccess = cipher.Encrypt(output.AccessJwt);
            await using (var update = new MySqlCommand($"""
                UPDATE {tables.Users} SET access_token = @access, refresh_token = @refresh, token_expires_at = @expires, updated_at = @now
                WHERE user_id = @id
                """, connection, transaction))
            {
                update.Parameters.AddWithValue("@access", storedAccess);
                update.Parameters.AddWithValue("@refresh", cipher.Encrypt(output.RefreshJwt));
                update.Parameters.AddWithValue("@expires", expiresAt?.ToUnixTimeSeconds());
                update.Parameters.AddWithValue("@now", now.ToUnixTimeSeconds());
                update.Parameters.AddWithValue("@id", user.UserId);
                await update.ExecuteNonQueryAsync(cancellationToken);
            }
            await transaction.CommitAsync(cancellationToken);
            metrics.TokenRefreshed("ok");
            LogRefreshed(user.Did, cipher.CurrentVersion);
            return new SessionResult.Opened(new UserSession(user.UserId, user.Did, pdsUrl, output.AccessJwt, storedAccess, expiresAt));
        }
        catch (TokenCipherException ex)
        {
            LogUndecryptable(user.Did, ex.Failure);
            return new SessionProblem.SignInRequired($"stored tokens cannot be decrypted ({ex.Failure})");
        }
    }

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
        reader.IsDBNull(5) ? null : Convert.ToInt64(reader.GetValue(5)));

    [LoggerMessage(Level = LogLevel.Information, Message = "Refreshed the PDS session of {Did}; tokens stored with key version {KeyVersion}")]
    private partial void LogRefreshed(string did, string keyVersion);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The PDS rejected the refresh token of {Did} ({Error}): the user must sign in again")]
    private partial void LogRefreshRejected(string did, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refreshing the PDS session of {Did} failed ({Error}, status {Status}); will retry")]
    private partial void LogRefreshFailed(string did, string error, int? status);

    [LoggerMessage(Level = LogLevel.Error, Message = "The stored tokens of {Did} cannot be decrypted ({Failure})")]
    private partial void LogUndecryptable(string did, TokenCipherFailure failure);

    [LoggerMessage(Level = LogLevel.Information, Message = "Re-encrypted the stored tokens of {Did} with key version {KeyVersion}")]
    private partial void LogReencrypted(string did, string keyVersion);
}
