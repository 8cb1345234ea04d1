using System.Data;
using AtSync.AtProto.Xrpc;
using AtSync.Core.Forum;
using AtSync.Core.Storage;
using AtSync.Core.Tokens;
using MySqlConnector;

namespace AtSync.QueueWorker.Sessions;

/// <summary>
/// The forum account's session in <c>atproto_users</c> (row <see cref="ForumAccount.UserId"/>), sealed with the token
/// cipher like members' sessions, so <see cref="UserSessions"/> opens and refreshes it like theirs: before expiry, under
/// the row lock. A new session (after sign-in) replaces the stored one under that same lock.
/// </summary>
public sealed class ForumAccountStore(MySqlDataSource dataSource, AtSyncTables tables, TokenCipher cipher, TimeProvider time)
{
    /// <summary>What the forum account's row holds now.</summary>
    public enum State { None, Stored, OtherDid, LinkedByMember }

    /// <summary>Whether a session of <paramref name="did"/> is stored (and whether a member's row already holds that DID).</summary>
    public async Task<State> StateAsync(string did, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = new MySqlCommand(
            $"SELECT user_id, did, refresh_token IS NOT NULL AND refresh_token <> '' FROM {tables.Users} WHERE user_id = {ForumAccount.UserId} OR did = @did", connection);
        command.Parameters.AddWithValue("@did", did);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var state = State.None;
        while (await reader.ReadAsync(cancellationToken))
        {
            var userId = Convert.ToInt64(reader.GetValue(0));
            if (userId != ForumAccount.UserId) return State.LinkedByMember;
            state = reader.GetString(1) != did ? State.OtherDid : Convert.ToInt64(reader.GetValue(2)) != 0 ? State.Stored : State.None;
        }
        return state;
    }

    /// <summary>Stores a new session of the forum account (replacing any), under the row lock.</summary>
    public async Task SaveAsync(SessionOutput session, Uri pdsUrl, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken);
        await using (var select = new MySqlCommand($"SELECT user_id FROM {tables.Users} WHERE user_id = {ForumAccount.UserId} FOR UPDATE", connection, transaction))
        {
            await select.ExecuteScalarAsync(cancellationToken);
        }
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        await using (var upsert = new MySqlCommand($"""
            INSERT INTO {tables.Users} (user_id, did, handle, pds_url, access_token, refresh_token, token_expires_at, session_kind,
                auth_issuer, token_endpoint, revocation_endpoint, token_scope, dpop_key, created_at, updated_at)
            VALUES ({ForumAccount.UserId}, @did, @handle, @pds, @access, @refresh, @expires, '{SessionKinds.AppPasswordSql}', NULL, NULL, NULL, NULL, NULL, @now, @now)
            ON DUPLICATE KEY UPDATE did = @did, handle = @handle, pds_url = @pds, access_token = @access, refresh_token = @refresh,
                token_expires_at = @expires, session_kind = '{SessionKinds.AppPasswordSql}', auth_issuer = NULL, token_endpoint = NULL,
                revocation_endpoint = NULL, token_scope = NULL, dpop_key = NULL, updated_at = @now
            """, connection, transaction))
        {
            upsert.Parameters.AddWithValue("@did", session.Did);
            // From the network: stored only when it is a handle (the column is ASCII, at most 253 characters).
            upsert.Parameters.AddWithValue("@handle", AtSync.AtProto.Syntax.Handle.IsValid(session.Handle) ? session.Handle : "");
            upsert.Parameters.AddWithValue("@pds", pdsUrl.ToString());
            upsert.Parameters.AddWithValue("@access", cipher.Encrypt(session.AccessJwt));
            upsert.Parameters.AddWithValue("@refresh", cipher.Encrypt(session.RefreshJwt));
            upsert.Parameters.AddWithValue("@expires", JwtExpiry.Read(session.AccessJwt)?.ToUnixTimeSeconds());
            upsert.Parameters.AddWithValue("@now", now);
            await upsert.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
    }
}
