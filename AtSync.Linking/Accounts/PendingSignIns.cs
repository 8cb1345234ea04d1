using System.Data;
using System.Text.Json;
using AtSync.Core.Storage;
using AtSync.Core.Tokens;
using MySqlConnector;

namespace AtSync.Linking.Accounts;

/// <summary>A sign-in between the redirect to the authorization server and its callback. Holds secrets (PKCE verifier, DPoP key).</summary>
public sealed record PendingSignIn(string State, long UserId, string Did, string Handle, string PdsUrl, string Issuer,
    string PkceVerifier, string DpopPrivateKey, string Scope, DateTimeOffset ExpiresAt)
{
    public override string ToString() => $"PendingSignIn {{ UserId = {UserId}, Did = {Did}, Issuer = {Issuer}, secrets [redacted] }}";
}

/// <summary>
/// <c>atproto_oauth_requests</c>: one row per started sign-in, keyed by its <c>state</c>, its secrets sealed with the
/// token cipher. <see cref="TakeAsync"/> removes the row it returns, so each callback can be used once.
/// </summary>
public sealed class PendingSignIns(MySqlDataSource dataSource, AtSyncTables tables, TokenCipher cipher, TimeProvider time)
{
    private sealed record Secrets(string Verifier, string DpopKey, string Scope);

    public async Task SaveAsync(PendingSignIn pending, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        var secrets = cipher.Encrypt(JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["verifier"] = pending.PkceVerifier, ["dpop_key"] = pending.DpopPrivateKey, ["scope"] = pending.Scope,
        }));
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using (var purge = new MySqlCommand($"DELETE FROM {tables.OAuthRequests} WHERE expires_at < @now", connection))
        {
            purge.Parameters.AddWithValue("@now", now);
            await purge.ExecuteNonQueryAsync(cancellationToken);
        }
        await using var insert = new MySqlCommand($"""
            INSERT INTO {tables.OAuthRequests} (state, user_id, did, handle, pds_url, auth_issuer, secrets, created_at, expires_at)
            VALUES (@state, @user, @did, @handle, @pds, @issuer, @secrets, @now, @expires)
            """, connection);
        insert.Parameters.AddWithValue("@state", pending.State);
        insert.Parameters.AddWithValue("@user", pending.UserId);
        insert.Parameters.AddWithValue("@did", pending.Did);
        insert.Parameters.AddWithValue("@handle", pending.Handle);
        insert.Parameters.AddWithValue("@pds", pending.PdsUrl);
        insert.Parameters.AddWithValue("@issuer", pending.Issuer);
        insert.Parameters.AddWithValue("@secrets", secrets);
        insert.Parameters.AddWithValue("@now", now);
        insert.Parameters.AddWithValue("@expires", pending.ExpiresAt.ToUnixTimeSeconds());
        await insert.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Removes and returns the sign-in with this state; null when there is none (never started, used, or expired).</summary>
    public async Task<PendingSignIn?> TakeAsync(string state, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(state) || state.Length > 64) return null;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken);
        PendingSignIn? pending = null;
        string? sealedSecrets = null;
        await using (var select = new MySqlCommand($"""
            SELECT user_id, did, handle, pds_url, auth_issuer, secrets, expires_at FROM {tables.OAuthRequests} WHERE state = @state FOR UPDATE
            """, connection, transaction))
        {
            select.Parameters.AddWithValue("@state", state);
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken))
            {
                sealedSecrets = reader.GetString(5);
                pending = new PendingSignIn(state, Convert.ToInt64(reader.GetValue(0)), reader.GetString(1), reader.GetString(2), reader.GetString(3),
                    reader.GetString(4), "", "", "", DateTimeOffset.FromUnixTimeSeconds(Convert.ToInt64(reader.GetValue(6))));
            }
        }
        if (pending is null) return null;
        await using (var delete = new MySqlCommand($"DELETE FROM {tables.OAuthRequests} WHERE state = @state", connection, transaction))
        {
            delete.Parameters.AddWithValue("@state", state);
            await delete.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        if (pending.ExpiresAt <= time.GetUtcNow()) return null;
        var secrets = JsonSerializer.Deserialize<Dictionary<string, string>>(cipher.Decrypt(sealedSecrets!))!;
        return pending with { PkceVerifier = secrets["verifier"], DpopPrivateKey = secrets["dpop_key"], Scope = secrets["scope"] };
    }
}
