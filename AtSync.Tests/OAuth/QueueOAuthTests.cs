using AtSync.Tests.QueueWorker;

namespace AtSync.Tests.OAuth;

/// <summary>
/// The QueueWorker writing for users linked through OAuth, against the loopback authorization server and the
/// DPoP-enforcing PDS on the harness's clock: DPoP-bound writes, nonces, refresh at the token endpoint, sign-in
/// required on a dead session, and legacy app-password sessions beside them.
/// </summary>
public sealed class QueueOAuthTests
{
    private sealed class Setup : IAsyncDisposable
    {
        public required OAuthClientHost Client { get; init; }
        public required QueueHarness H { get; init; }
        public required LoopbackAtNetwork Network { get; init; }

        public static async Task<Setup> CreateAsync()
        {
            var client = await OAuthClientHost.StartAsync();
            var settings = client.Settings;
            settings["QueueWorker:RefreshAhead"] = "00:02:00";
            var h = await QueueHarness.CreateAsync(settings);
            var network = await LoopbackAtNetwork.StartAsync(h.Time);
            return new Setup { Client = client, H = h, Network = network };
        }

        public Task<OAuthClientHost.OAuthUser> LinkAsync(long userId, string handle) =>
            Client.LinkAsync(H.Database, H.Cipher, Network, userId, handle);

        public async ValueTask DisposeAsync()
        {
            await H.DisposeAsync();
            await Network.DisposeAsync();
            await Client.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_linked_users_new_post_reaches_the_PDS_as_createRecord_with_a_valid_DPoP_proof_after_one_nonce_round_trip()
    {
        await using var s = await Setup.CreateAsync();
        var user = await s.LinkAsync(700, "poster.forum-test.net");
        var (_, post) = await s.H.PostTopicAsync(user.UserId, "Hello", "<t>first DPoP post</t>");

        var result = await s.H.RunBatchAsync();
        Assert.Equal(1, result.Done);
        var write = Assert.Single(s.Network.Writes);
        Assert.Equal("com.atproto.repo.createRecord", write.Nsid);
        Assert.Equal(user.Did, write.Did);
        Assert.Equal("net.vza.forum.post", write.Collection);
        // The proof verified (signature, htm/htu, iat, jti, ath, nonce) with the session's own key.
        Assert.Equal(user.Key.Thumbprint, write.Jkt);
        Assert.Contains("first DPoP post", write.RecordJson, StringComparison.Ordinal);
        // The PDS demanded its nonce once; the handler retried and the row used a single attempt.
        Assert.Equal(["use_dpop_nonce"], s.Network.Refusals);
        var synced = await s.H.AtprotoPostAsync(post);
        Assert.Equal("synced", synced!.SyncStatus);
        Assert.Equal($"at://{user.Did}/net.vza.forum.post/{write.Rkey}", synced.AtUri);
        Assert.Empty(await s.H.QueueRowsAsync());

        // The next write carries the nonce it learnt: no further round trip.
        await s.H.PostReplyAsync(1, user.UserId, "<t>second</t>");
        Assert.Equal(1, (await s.H.RunBatchAsync()).Done);
        Assert.Single(s.Network.Refusals);
        Assert.Equal(2, s.Network.Writes.Count);
    }

    [Fact]
    public async Task An_expiring_OAuth_token_is_refreshed_at_the_token_endpoint_and_the_rotated_refresh_token_is_stored_first()
    {
        await using var s = await Setup.CreateAsync();
        s.Network.Auth.AccessLifetime = TimeSpan.FromMinutes(10);
        var user = await s.LinkAsync(701, "refresher.forum-test.net");
        await s.H.PostTopicAsync(user.UserId, "S", "<t>x</t>");
        s.H.Time.Advance(TimeSpan.FromMinutes(9)); // one minute left: under the two-minute margin

        Assert.Equal(1, (await s.H.RunBatchAsync()).Done);
        var refresh = Assert.Single(s.Network.Auth.Refreshes);
        Assert.True(refresh.Accepted);
        var stored = await s.H.StoredTokensAsync(user.UserId);
        var newRefresh = s.H.Cipher.Decrypt(stored.Refresh);
        var newAccess = s.H.Cipher.Decrypt(stored.Access);
        Assert.NotEqual(user.Refresh, newRefresh);
        Assert.NotEqual(user.Access, newAccess);
        Assert.Null(s.Network.Auth.Introspect(newAccess).Error);
        Assert.Equal((s.H.Time.GetUtcNow() + TimeSpan.FromMinutes(10)).ToUnixTimeSeconds(), stored.ExpiresAt);
        // The write went out with the new token, still bound to the same key.
        Assert.Equal(user.Key.Thumbprint, Assert.Single(s.Network.Writes).Jkt);
        // The token endpoint demanded its nonce first (the client retried once), then accepted the refresh.
        Assert.Contains(s.Network.Auth.Errors, e => e.Contains("use_dpop_nonce", StringComparison.Ordinal));
        Assert.Equal(0, s.Network.Auth.ReusedRefreshTokens);
        Assert.DoesNotContain(s.H.Logs.Lines, l => l.Contains(newRefresh, StringComparison.Ordinal) || l.Contains(newAccess, StringComparison.Ordinal)
            || l.Contains(user.Refresh, StringComparison.Ordinal) || l.Contains(user.Access, StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_expired_token_rejected_by_the_PDS_is_refreshed_once_and_the_write_sent_again()
    {
        await using var s = await Setup.CreateAsync();
        s.Network.Auth.AccessLifetime = TimeSpan.FromMinutes(10);
        var user = await s.LinkAsync(702, "late.forum-test.net");
        // The row does not say when the token expires: the worker learns it from the PDS.
        await s.H.ExecuteAsync($"UPDATE {s.H.Tables.Users} SET token_expires_at = NULL WHERE user_id = {user.UserId}");
        await s.H.PostTopicAsync(user.UserId, "S", "<t>x</t>");
        s.H.Time.Advance(TimeSpan.FromMinutes(11));

        Assert.Equal(1, (await s.H.RunBatchAsync()).Done);
        Assert.Contains("ExpiredToken", s.Network.Refusals);
        Assert.Single(s.Network.Auth.Refreshes);
        Assert.Single(s.Network.Writes);
    }

    [Fact]
    public async Task A_revoked_session_means_the_user_must_sign_in_again()
    {
        await using var s = await Setup.CreateAsync();
        s.Network.Auth.AccessLifetime = TimeSpan.FromMinutes(10);
        var user = await s.LinkAsync(703, "revoked.forum-test.net");
        await s.H.PostTopicAsync(user.UserId, "S", "<t>x</t>");
        // The refresh token was used elsewhere (stolen): the server revokes the session on reuse.
        using (var thief = new HttpClient())
        {
            var client = new AtSync.AtProto.OAuth.OAuthClient(thief, s.Client.Client.Identity, new AtSync.AtProto.OAuth.DpopNonceCache(), s.H.Time);
            await client.RefreshAsync(new Uri(s.Network.Auth.Issuer + "/oauth/token"), s.Network.Auth.Issuer, user.Refresh, user.Key);
            var reuse = await Assert.ThrowsAsync<AtSync.AtProto.OAuth.OAuthException>(() =>
                client.RefreshAsync(new Uri(s.Network.Auth.Issuer + "/oauth/token"), s.Network.Auth.Issuer, user.Refresh, user.Key));
            Assert.True(reuse.IsInvalidGrant);
        }
        s.H.Time.Advance(TimeSpan.FromMinutes(9));

        await s.H.RunBatchAsync();
        var row = Assert.Single(await s.H.QueueRowsAsync());
        Assert.Equal("dead_letter", row.Status);
        Assert.Contains("user must sign in again", row.LastError, StringComparison.Ordinal);
        Assert.Empty(s.Network.Writes);
    }

    [Fact]
    public async Task Legacy_app_password_sessions_keep_working_beside_OAuth_ones()
    {
        await using var s = await Setup.CreateAsync();
        var oauthUser = await s.LinkAsync(704, "modern.forum-test.net");
        var legacy = await s.H.LinkUserAsync();
        await s.H.PostTopicAsync(oauthUser.UserId, "A", "<t>oauth</t>");
        await s.H.PostTopicAsync(legacy.UserId, "B", "<t>legacy</t>");

        Assert.Equal(2, (await s.H.RunBatchAsync()).Done);
        Assert.Single(s.Network.Writes);
        var legacyCall = Assert.Single(s.H.Pds.Calls);
        Assert.Equal(("com.atproto.repo.createRecord", 200), (legacyCall.Nsid, legacyCall.Status));
        Assert.Equal(legacy.Did, legacyCall.Did);
    }
}
