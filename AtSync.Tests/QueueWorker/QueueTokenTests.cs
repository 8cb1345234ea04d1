using AtSync.Core.Settings;
using AtSync.Core.Tokens;
using AtSync.QueueWorker;
using AtSync.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace AtSync.Tests.QueueWorker;

/// <summary>Session tokens during writes: refresh before expiry and on ExpiredToken, under a row lock; revocation; rotation; no secrets in logs.</summary>
public sealed class QueueTokenTests
{
    private const string Refresh = "com.atproto.server.refreshSession";
    private const string Create = "com.atproto.repo.createRecord";

    [Fact]
    public async Task ExpiredToken_from_the_PDS_refreshes_the_session_stores_it_encrypted_and_retries_the_write()
    {
        await using var h = await QueueHarness.CreateAsync();
        // The PDS expires the token in 10 minutes, but the stored row does not say when: the worker only learns it from the PDS.
        var user = await h.LinkUserAsync(accessLifetime: TimeSpan.FromMinutes(10), storeExpiry: false);
        var (_, post) = await h.PostTopicAsync(user.UserId, "S", "<t>x</t>");
        h.Time.Advance(TimeSpan.FromMinutes(11));

        var result = await h.RunBatchAsync();
        Assert.Equal(1, result.Done);
        Assert.Equal([(Create, 400), (Refresh, 200), (Create, 200)], h.Pds.Calls.Select(c => (c.Nsid, c.Status)));
        Assert.Equal("synced", (await h.AtprotoPostAsync(post))!.SyncStatus);

        var stored = await h.StoredTokensAsync(user.UserId);
        Assert.StartsWith("v1:", stored.Access, StringComparison.Ordinal);
        Assert.NotEqual(user.AccessToken, h.Cipher.Decrypt(stored.Access));
        Assert.NotEqual(user.RefreshToken, h.Cipher.Decrypt(stored.Refresh));
        // The expiry of the new token is read from it and stored.
        Assert.Equal((h.Time.GetUtcNow() + h.Pds.AccessLifetime).ToUnixTimeSeconds(), stored.ExpiresAt);
    }

    [Fact]
    public async Task A_token_about_to_expire_is_refreshed_before_the_write()
    {
        await using var h = await QueueHarness.CreateAsync();
        var user = await h.LinkUserAsync(accessLifetime: TimeSpan.FromMinutes(3));
        await h.PostTopicAsync(user.UserId, "S", "<t>x</t>");
        h.Time.Advance(TimeSpan.FromMinutes(2)); // 1 minute left, under the 2-minute refresh margin

        Assert.Equal(1, (await h.RunBatchAsync()).Done);
        Assert.Equal([Refresh, Create], h.Pds.Calls.Select(c => c.Nsid));
    }

    [Fact]
    public async Task InvalidToken_on_a_write_also_refreshes_once()
    {
        await using var h = await QueueHarness.CreateAsync();
        var user = await h.LinkUserAsync();
        await h.PostTopicAsync(user.UserId, "S", "<t>x</t>");
        h.Pds.InjectFault(new PdsFault.Error(400, "InvalidToken", "Token could not be verified"), Create);
        Assert.Equal(1, (await h.RunBatchAsync()).Done);
        Assert.Equal([(Create, 400), (Refresh, 200), (Create, 200)], h.Pds.Calls.Select(c => (c.Nsid, c.Status)));
    }

    [Fact]
    public async Task A_revoked_refresh_token_dead_letters_all_the_users_rows_saying_to_sign_in_again()
    {
        await using var h = await QueueHarness.CreateAsync(new() { ["QueueWorker:BatchSize"] = "2" });
        var user = await h.LinkUserAsync(accessLifetime: TimeSpan.FromMinutes(10), storeExpiry: false);
        var other = await h.LinkUserAsync();
        for (var i = 0; i < 4; i++) await h.PostTopicAsync(user.UserId, $"S{i}", "<t>x</t>");
        var (_, otherPost) = await h.PostTopicAsync(other.UserId, "other", "<t>y</t>");
        h.Pds.RevokeRefreshTokens(user.Did);
        h.Time.Advance(TimeSpan.FromMinutes(11));
        h.Pds.CreateSession(other.Did); // keep the other user's token valid at the later clock
        await h.ExecuteAsync($"UPDATE {h.Tables.Users} SET token_expires_at = NULL");

        await h.DrainAsync();
        var rows = await h.QueueRowsAsync();
        Assert.Equal(4, rows.Count);
        Assert.All(rows, r =>
        {
            Assert.Equal("dead_letter", r.Status);
            Assert.Contains("user must sign in again", r.LastError, StringComparison.Ordinal);
            Assert.True(r.Attempts <= 1, "no retries are spent on a revoked session");
        });
        Assert.Equal(1, h.Pds.Calls.Count(c => c.Nsid == Refresh)); // one refresh attempt, not one per row
        Assert.Equal("synced", (await h.AtprotoPostAsync(otherPost))!.SyncStatus); // other users are unaffected
    }

    [Fact]
    public async Task Two_workers_needing_a_refresh_for_one_user_refresh_it_once()
    {
        await using var h = await QueueHarness.CreateAsync(new() { ["QueueWorker:BatchSize"] = "1" });
        var user = await h.LinkUserAsync(accessLifetime: TimeSpan.FromMinutes(3));
        await h.PostTopicAsync(user.UserId, "A", "<t>a</t>");
        await h.PostTopicAsync(user.UserId, "B", "<t>b</t>");
        h.Time.Advance(TimeSpan.FromMinutes(2));
        h.Pds.InjectFault(new PdsFault.Slow(TimeSpan.FromMilliseconds(500)), Refresh); // hold the row lock a while

        var second = ActivatorUtilities.CreateInstance<QueueProcessor>(h.Get<IServiceProvider>());
        var results = await Task.WhenAll(h.RunBatchAsync(), second.ProcessBatchAsync(CancellationToken.None));
        Assert.Equal(2, results.Sum(r => r.Done));
        // Refresh tokens are single-use at the PDS: a second refresh with the old one would have failed and dead-lettered.
        Assert.Equal(1, h.Pds.Calls.Count(c => c.Nsid == Refresh));
        Assert.Equal(2, h.Pds.Records.Count);
    }

    [Fact]
    public async Task Tokens_sealed_with_an_old_key_version_are_used_and_reencrypted_with_the_current_one()
    {
        var oldKeys = ServiceSettings.NewTokenKeysJson("v0");
        var newKeys = ServiceSettings.NewTokenKeysJson("v1");
        var bothKeys = oldKeys.TrimEnd('}') + "," + newKeys.TrimStart('{');
        await using var h = await QueueHarness.CreateAsync(new()
        {
            [SettingNames.TokenEncryptionKeys] = bothKeys,
            [SettingNames.TokenEncryptionKeyVersion] = "v1",
        });
        Assert.True(TokenKeysFormat.TryParse(bothKeys, out var keys, out _));
        using var oldCipher = new TokenCipher(keys, "v0");
        var user = await h.LinkUserAsync(sealWith: oldCipher);
        Assert.StartsWith("v0:", (await h.StoredTokensAsync(user.UserId)).Access, StringComparison.Ordinal);
        var (_, post) = await h.PostTopicAsync(user.UserId, "S", "<t>x</t>");

        Assert.Equal(1, (await h.RunBatchAsync()).Done);
        Assert.Equal("synced", (await h.AtprotoPostAsync(post))!.SyncStatus);
        var stored = await h.StoredTokensAsync(user.UserId);
        Assert.StartsWith("v1:", stored.Access, StringComparison.Ordinal);
        Assert.StartsWith("v1:", stored.Refresh, StringComparison.Ordinal);
        Assert.Equal(user.AccessToken, h.Cipher.Decrypt(stored.Access));
        Assert.Equal(user.RefreshToken, h.Cipher.Decrypt(stored.Refresh));
    }

    [Fact]
    public async Task Tokens_sealed_with_an_unknown_key_version_dead_letter_with_a_clear_reason()
    {
        await using var h = await QueueHarness.CreateAsync();
        Assert.True(TokenKeysFormat.TryParse(ServiceSettings.NewTokenKeysJson("v9"), out var keys, out _));
        using var foreign = new TokenCipher(keys, "v9");
        var user = await h.LinkUserAsync(sealWith: foreign);
        await h.PostTopicAsync(user.UserId, "S", "<t>x</t>");
        Assert.Equal(1, (await h.RunBatchAsync()).DeadLettered);
        var row = Assert.Single(await h.QueueRowsAsync());
        Assert.Contains("UnknownKeyVersion", row.LastError, StringComparison.Ordinal);
        Assert.Contains("sign in again", row.LastError, StringComparison.Ordinal);
        Assert.Empty(h.Pds.Calls);
    }

    [Fact]
    public async Task No_log_line_carries_a_token_or_a_key()
    {
        await using var h = await QueueHarness.CreateAsync(jitter: () => 0.5);
        var user = await h.LinkUserAsync(accessLifetime: TimeSpan.FromMinutes(10), storeExpiry: false);
        var revoked = await h.LinkUserAsync(accessLifetime: TimeSpan.FromMinutes(10), storeExpiry: false);
        await h.PostTopicAsync(user.UserId, "S", "<t>x</t>");
        await h.PostTopicAsync(revoked.UserId, "S", "<t>x</t>");
        h.Pds.RevokeRefreshTokens(revoked.Did);
        h.Time.Advance(TimeSpan.FromMinutes(11));
        h.Pds.InjectFault(new PdsFault.Error(500, "InternalServerError", "bad token {bearer}"), Create, count: 2);
        await h.DrainAsync();
        h.Time.Advance(TimeSpan.FromMinutes(1));
        await h.DrainAsync();

        var stored = await h.StoredTokensAsync(user.UserId);
        var secrets = new[] { user.AccessToken, user.RefreshToken, revoked.AccessToken, revoked.RefreshToken,
            h.Cipher.Decrypt(stored.Access), h.Cipher.Decrypt(stored.Refresh), stored.Access, stored.Refresh };
        var keyMaterial = h.KeysJson.Split('"')[3];
        var lines = h.Logs.Lines;
        Assert.Contains(lines, l => l.Contains("sign in again", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("Refreshed the PDS session", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("bad token [redacted]", StringComparison.Ordinal)); // the PDS echoed a token
        foreach (var line in lines)
        {
            foreach (var secret in secrets) Assert.False(line.Contains(secret, StringComparison.Ordinal), $"secret in log line: {line.Replace(secret, "<SECRET>", StringComparison.Ordinal)}");
            Assert.DoesNotContain(keyMaterial, line, StringComparison.Ordinal);
        }
        var errors = (await h.QueueRowsAsync()).Select(r => r.LastError ?? "");
        foreach (var error in errors)
        {
            foreach (var secret in secrets) Assert.DoesNotContain(secret, error, StringComparison.Ordinal);
        }
    }
}
