using System.Data;
using AtSync.AtProto.OAuth;
using AtSync.Core.Storage;
using AtSync.Core.Sync;
using AtSync.Core.Tokens;
using MySqlConnector;

namespace AtSync.Linking.Accounts;

/// <summary>A member's link as the pages show it.</summary>
public sealed record LinkedAccount(long UserId, string Did, string Handle, SessionKind Kind);

/// <summary>What unlinking needs to revoke the session at its server (secrets: never logged).</summary>
public sealed record StoredOAuthSession(string Issuer, string? RefreshToken, string? AccessToken, string? DpopPrivateKey)
{
    public override string ToString() => $"StoredOAuthSession {{ Issuer = {Issuer}, secrets [redacted] }}";
}

/// <summary>
/// The member's row in <c>atproto_users</c>: written by a completed OAuth sign-in (tokens and the session's DPoP key
/// sealed with the token cipher), read by the pages, removed by unlinking.
/// </summary>
public sealed class LinkedAccounts(MySqlDataSource dataSource, AtSyncTables tables, TokenCipher cipher, TimeProvider time)
{
    public async Task<LinkedAccount?> FindAsync(long userId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = new MySqlCommand($"SELECT did, handle, session_kind FROM {tables.Users} WHERE user_id = @id", connection);
        command.Parameters.AddWithValue("@id", userId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new LinkedAccount(userId, reader.GetString(0), reader.GetString(1), SessionKinds.Parse(reader.GetString(2)))
            : null;
    }

    /// <summary>Stores the session; false (and nothing stored) when the DID is already linked to another member.</summary>
    public async Task<bool> SaveOAuthAsync(long userId, string handle, Uri pds, AuthorizationServerMetadata server, TokenSet tokens, DpopKey dpopKey,
        CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken);
        await using (var owner = new MySqlCommand($"SELECT user_id FROM {tables.Users} WHERE did = @did FOR UPDATE", connection, transaction))
        {
            owner.Parameters.AddWithValue("@did", tokens.Subject.Value);
            if (await owner.ExecuteScalarAsync(cancellationToken) is { } other && Convert.ToInt64(other) != userId) return false;
        }
        await using var upsert = new MySqlCommand($"""
            INSERT INTO {tables.Users} (user_id, did, handle, pds_url, access_token, refresh_token, token_expires_at, session_kind,
                auth_issuer, token_endpoint, revocation_endpoint, token_scope, dpop_key, created_at, updated_at)
            VALUES (@id, @did, @handle, @pds, @access, @refresh, @expires, '{SessionKinds.OAuthSql}', @issuer, @token, @revoke, @scope, @key, @now, @now)
            ON DUPLICATE KEY UPDATE did = VALUES(did), handle = VALUES(handle), pds_url = VALUES(pds_url), access_token = VALUES(access_token),
                refresh_token = VALUES(refresh_token), token_expires_at = VALUES(token_expires_at), session_kind = VALUES(session_kind),
                auth_issuer = VALUES(auth_issuer), token_endpoint = VALUES(token_endpoint), revocation_endpoint = VALUES(revocation_endpoint),
                token_scope = VALUES(token_scope), dpop_key = VALUES(dpop_key), updated_at = VALUES(updated_at)
            """, connection, transaction);
        upsert.Parameters.AddWithValue("@id", userId);
        upsert.Parameters.AddWithValue("@did", tokens.Subject.Value);
        upsert.Parameters.AddWithValue("@handle", handle);
        upsert.Parameters.AddWithValue("@pds", pds.ToString());
        upsert.Parameters.AddWithValue("@access", cipher.Encrypt(tokens.AccessToken));
        upsert.Parameters.AddWithValue("@refresh", tokens.RefreshToken is null ? null : cipher.Encrypt(tokens.RefreshToken));
        upsert.Parameters.AddWithValue("@expires", tokens.ExpiresAt?.ToUnixTimeSeconds());
        upsert.Parameters.AddWithValue("@issuer", server.Issuer);
        upsert.Parameters.AddWithValue("@token", server.TokenEndpoint.ToString());
        upsert.Parameters.AddWithValue("@revoke", server.RevocationEndpoint?.ToString());
        upsert.Parameters.AddWithValue("@scope", tokens.Scope);
        upsert.Parameters.AddWithValue("@key", cipher.Encrypt(dpopKey.ExportPrivateKey()));
        upsert.Parameters.AddWithValue("@now", now);
        await upsert.ExecuteNonQueryAsync(cancellationToken);
        // The member's forum records published before linking reach phpBB through the Firehose's import (backfill).
        await ResyncRequests.RequestAsync(connection, transaction, tables, tokens.Subject.Value, ResyncRequester.Link, now, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    /// <summary>
    /// Revokes (through <paramref name="revoke"/>, for an OAuth session) and removes the member's row, holding the row
    /// lock throughout so that no worker rotates the refresh token meanwhile. False when there was no row.
    /// </summary>
    public async Task<bool> UnlinkAsync(long userId, Func<StoredOAuthSession, Task> revoke, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken);
        StoredOAuthSession? session = null;
        var found = false;
        await using (var select = new MySqlCommand($"""
            SELECT session_kind, auth_issuer, refresh_token, access_token, dpop_key FROM {tables.Users} WHERE user_id = @id FOR UPDATE
            """, connection, transaction))
        {
            select.Parameters.AddWithValue("@id", userId);
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            found = await reader.ReadAsync(cancellationToken);
            if (found && SessionKinds.Parse(reader.GetString(0)) == SessionKind.OAuth && !reader.IsDBNull(1))
            {
                string? Open(int i)
                {
                    if (reader.IsDBNull(i)) return null;
                    try { return cipher.Decrypt(reader.GetString(i)); }
                    catch (TokenCipherException) { return null; }
                }
                session = new StoredOAuthSession(reader.GetString(1), Open(2), Open(3), Open(4));
            }
        }
        if (!found) return false;
        if (session is not null) await revoke(session);
        await using (var delete = new MySqlCommand($"DELETE FROM {tables.Users} WHERE user_id = @id", connection, transaction))
        {
            delete.Parameters.AddWithValue("@id", userId);
            await delete.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        return true;
    }
}
