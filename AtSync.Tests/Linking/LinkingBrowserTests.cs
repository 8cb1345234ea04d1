using AtSync.AtProto.OAuth;
using AtSync.Tests.OAuth;
using Microsoft.Playwright;

namespace AtSync.Tests.Linking;

public sealed class LinkingFixture : IAsyncLifetime
{
    public LinkingHarness Harness { get; private set; } = null!;

    public async Task InitializeAsync() => Harness = await LinkingHarness.StartAsync();

    public async Task DisposeAsync() => await Harness.DisposeAsync();
}

/// <summary>
/// A forum member links their AT identity in a real browser (headless Chromium) through the linking service, the
/// loopback authorization server's consent page and back; and every way that must fail fails with a clear page and
/// stores nothing.
/// </summary>
public sealed class LinkingBrowserTests(LinkingFixture fixture) : IClassFixture<LinkingFixture>
{
    private LinkingHarness H => fixture.Harness;

    [Fact]
    public async Task A_member_links_their_handle_and_the_row_holds_sealed_DPoP_bound_tokens_and_key()
    {
        var did = H.Network.AddAccount("alice.forum-test.net");
        var (userId, page) = await H.SignedInMemberAsync();
        string? code = null;
        H.Network.Auth.TamperRedirect = location =>
        {
            code = new Uri(location).Query.TrimStart('?').Split('&').First(p => p.StartsWith("code=", StringComparison.Ordinal))[5..];
            return location;
        };
        try
        {
            Assert.Equal(200, await H.LinkThroughBrowserAsync(page, "alice.forum-test.net"));
        }
        finally
        {
            H.Network.Auth.TamperRedirect = null;
        }
        Assert.Equal(H.LinkUrl.ToString(), page.Url);
        Assert.Equal("Linked as @alice.forum-test.net.", (await page.Locator("#linked").InnerTextAsync()).Trim());

        var row = await H.UserRowAsync(userId);
        Assert.NotNull(row);
        Assert.Equal(did, row.Did);
        Assert.Equal("alice.forum-test.net", row.Handle);
        Assert.Equal("oauth", row.Kind);
        Assert.Equal(H.Network.Auth.Issuer, row.Issuer);
        Assert.Equal(H.Network.Auth.Issuer + "/oauth/token", row.TokenEndpoint);
        Assert.Equal(H.Network.PdsUri.GetLeftPart(UriPartial.Authority) + "/", row.PdsUrl);
        // The server lists granular repo permissions: the narrowest scope was asked for and granted.
        Assert.Equal("atproto repo:net.vza.forum.post", row.Scope);
        Assert.NotNull(row.ExpiresAt);
        foreach (var sealedValue in new[] { row.Access, row.Refresh, row.DpopKey })
        {
            Assert.NotNull(sealedValue);
            Assert.StartsWith("v1:", sealedValue, StringComparison.Ordinal);
        }
        var access = H.Cipher.Decrypt(row.Access!);
        var (issued, error) = H.Network.Auth.Introspect(access);
        Assert.Null(error);
        Assert.Equal(did, issued!.Did);
        using var key = DpopKey.ImportPrivateKey(H.Cipher.Decrypt(row.DpopKey!));
        // The stored key is the one the token is bound to.
        Assert.Equal(issued.Jkt, key.Thumbprint);
        Assert.DoesNotContain(row.Access!, access, StringComparison.Ordinal);

        // Nothing secret in the service's output.
        var output = H.Service.Output;
        Assert.Contains("linked " + did, output, StringComparison.Ordinal);
        Assert.DoesNotContain(access, output, StringComparison.Ordinal);
        Assert.DoesNotContain(H.Cipher.Decrypt(row.Refresh!), output, StringComparison.Ordinal);
        Assert.DoesNotContain(H.Cipher.Decrypt(row.DpopKey!), output, StringComparison.Ordinal);
        Assert.NotNull(code);
        Assert.DoesNotContain(code!, output, StringComparison.Ordinal);
        // The callback consumed the pending sign-in.
        Assert.Equal(0, await H.Database.ScalarAsync<long>($"SELECT COUNT(*) FROM {H.Database.Tables.OAuthRequests} WHERE user_id = {userId}"));
        // The member's existing forum records are requested for import (backfill by the Firehose's import worker).
        Assert.Equal("resync_requested link", await H.Database.ScalarAsync<string>($"SELECT CONCAT(status, ' ', requested_by) FROM {H.Database.Tables.Repos} WHERE did = '{did}'"));
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_linked_members_new_phpBB_post_reaches_the_PDS_as_a_createRecord_with_a_valid_DPoP_proof()
    {
        var did = H.Network.AddAccount("writer.forum-test.net");
        var (userId, page) = await H.SignedInMemberAsync();
        Assert.Equal(200, await H.LinkThroughBrowserAsync(page, "writer.forum-test.net"));
        await page.Context.CloseAsync();
        var t = H.Database.Tables;
        await H.Database.ExecuteAsync($"INSERT IGNORE INTO {t.PhpbbForums} (forum_id, forum_name, forum_parents, forum_desc, forum_rules) VALUES (1, 'General', '', '', '')");
        await H.Database.ExecuteAsync($"INSERT IGNORE INTO {t.Forums} (forum_id, at_uri, at_cid, slug) VALUES (1, '{AtSync.Tests.QueueWorker.QueueHarness.ForumBoardUri}', '{AtSync.Tests.QueueWorker.QueueHarness.ForumBoardCid}', 'general')");

        var settings = AtSync.Tests.Infrastructure.ServiceSettings.For(H.Database, H.KeysJson);
        settings["LINKING_PUBLIC_URL"] = H.PublicUrl.ToString();
        settings["OAUTH_CLIENT_KEY"] = H.ClientKey;
        settings["QueueWorker__PollInterval"] = "00:00:00.100";
        await using var worker = AtSync.Tests.Infrastructure.ServiceProcess.Start("AtSync.QueueWorker", settings);
        await worker.WaitForHealthyAsync(TimeSpan.FromSeconds(60));

        // phpBB's submit_post: the topic, its first post, then the topic's first/last post ids (the outbox trigger enqueues the create).
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        await H.Database.ExecuteAsync($"INSERT INTO {t.PhpbbTopics} (topic_id, forum_id, topic_title, topic_poster, topic_time, topic_type, topic_visibility) VALUES (9001, 1, 'Linked hello', {userId}, {now}, 0, 1)");
        await H.Database.ExecuteAsync($"INSERT INTO {t.PhpbbPosts} (post_id, topic_id, forum_id, poster_id, post_time, post_subject, post_text, post_visibility) VALUES (9001, 9001, 1, {userId}, {now}, 'Linked hello', '<t>written on the forum</t>', 1)");
        await H.Database.ExecuteAsync($"UPDATE {t.PhpbbTopics} SET topic_first_post_id = 9001, topic_last_post_id = 9001 WHERE topic_id = 9001");

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!H.Network.Writes.Any(w => w.Did == did))
        {
            Assert.True(DateTime.UtcNow < deadline, "the post did not reach the PDS:\n" + worker.Output);
            await Task.Delay(100);
        }
        var write = H.Network.Writes.Single(w => w.Did == did);
        Assert.Equal("com.atproto.repo.createRecord", write.Nsid);
        Assert.Contains("written on the forum", write.RecordJson, StringComparison.Ordinal);
        using var key = DpopKey.ImportPrivateKey(H.Cipher.Decrypt((await H.UserRowAsync(userId))!.DpopKey!));
        Assert.Equal(key.Thumbprint, write.Jkt);
        // The worker records the result right after the PDS answered.
        while (await H.Database.ScalarAsync<string?>($"SELECT MAX(sync_status) FROM {t.Posts} WHERE post_id = 9001") != "synced")
        {
            Assert.True(DateTime.UtcNow < deadline, "the post was not marked synced:\n" + worker.Output);
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task Unlinking_revokes_the_session_at_the_server_and_deletes_the_row()
    {
        var did = H.Network.AddAccount("leaving.forum-test.net");
        var (userId, page) = await H.SignedInMemberAsync();
        Assert.Equal(200, await H.LinkThroughBrowserAsync(page, "leaving.forum-test.net"));
        Assert.NotNull(await H.UserRowAsync(userId));

        await page.GetByRole(AriaRole.Button, new() { Name = "Unlink this account" }).ClickAsync();
        await page.Locator("#unlinked").WaitForAsync();
        Assert.Equal("Your AT Protocol account is no longer linked.", (await page.Locator("#unlinked").InnerTextAsync()).Trim());
        Assert.Null(await H.UserRowAsync(userId));
        Assert.True(H.Network.Auth.IsRevoked(did));
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_DID_can_be_entered_instead_of_a_handle()
    {
        var did = H.Network.AddAccount("bydid.forum-test.net");
        var (userId, page) = await H.SignedInMemberAsync();
        Assert.Equal(200, await H.LinkThroughBrowserAsync(page, did));
        Assert.Equal("Linked as @bydid.forum-test.net.", (await page.Locator("#linked").InnerTextAsync()).Trim());
        Assert.Equal(did, (await H.UserRowAsync(userId))!.Did);
        await page.Context.CloseAsync();
    }

    [Theory]
    [InlineData("state")]
    [InlineData("iss")]
    public async Task A_tampered_callback_gives_a_clear_page_and_stores_nothing(string tampered)
    {
        H.Network.AddAccount($"tamper-{tampered}.forum-test.net");
        var (userId, page) = await H.SignedInMemberAsync();
        H.Network.Auth.TamperRedirect = location => tampered == "state"
            ? System.Text.RegularExpressions.Regex.Replace(location, "state=[^&]+", "state=forgedforgedforgedforgedforgedforgedforged")
            : System.Text.RegularExpressions.Regex.Replace(location, "iss=[^&]+", "iss=" + Uri.EscapeDataString("http://127.0.0.1:9"));
        try
        {
            Assert.Equal(400, await H.LinkThroughBrowserAsync(page, $"tamper-{tampered}.forum-test.net"));
        }
        finally
        {
            H.Network.Auth.TamperRedirect = null;
        }
        var alert = (await page.Locator("#error").InnerTextAsync()).Trim();
        Assert.Contains(tampered == "state" ? "not valid, has expired, or was already used" : "did not come from the server your sign-in started at", alert, StringComparison.Ordinal);
        Assert.Contains("Nothing was saved.", await page.ContentAsync(), StringComparison.Ordinal);
        Assert.Null(await H.UserRowAsync(userId));
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Tokens_for_another_DID_than_the_one_resolved_are_refused_and_stored_nowhere()
    {
        var victim = H.Network.AddAccount("victim.forum-test.net");
        var other = H.Network.AddAccount("mallory.forum-test.net");
        var (userId, page) = await H.SignedInMemberAsync();
        H.Network.Auth.SubjectOverride = other;
        try
        {
            Assert.Equal(400, await H.LinkThroughBrowserAsync(page, "victim.forum-test.net"));
        }
        finally
        {
            H.Network.Auth.SubjectOverride = null;
        }
        Assert.Contains("signed in a different account", await page.Locator("#error").InnerTextAsync(), StringComparison.Ordinal);
        Assert.Null(await H.UserRowAsync(userId));
        Assert.Equal(0, await H.Database.ScalarAsync<long>($"SELECT COUNT(*) FROM {H.Database.Tables.Repos} WHERE did IN ('{victim}', '{other}')"));
        // The unwanted session was revoked at the server.
        Assert.True(H.Network.Auth.IsRevoked(other));
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_replayed_callback_is_refused_and_changes_nothing()
    {
        H.Network.AddAccount("replay.forum-test.net");
        var (userId, page) = await H.SignedInMemberAsync();
        string? callback = null;
        H.Network.Auth.TamperRedirect = location => callback = location;
        try
        {
            Assert.Equal(200, await H.LinkThroughBrowserAsync(page, "replay.forum-test.net"));
        }
        finally
        {
            H.Network.Auth.TamperRedirect = null;
        }
        var before = await H.UserRowAsync(userId);
        Assert.NotNull(before);

        var replay = await page.GotoAsync(callback!);
        Assert.Equal(400, replay!.Status);
        Assert.Contains("already used", await page.Locator("#error").InnerTextAsync(), StringComparison.Ordinal);
        Assert.Equal(before, await H.UserRowAsync(userId));
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Without_a_phpBB_session_the_link_page_asks_to_sign_in_and_the_form_is_not_shown()
    {
        var page = await H.PageWithCookiesAsync(sid: null, userId: 0);
        var response = await page.GotoAsync(H.LinkUrl.ToString());
        Assert.Equal(401, response!.Status);
        Assert.Contains("You are not signed in to the forum", await page.Locator("#error").InnerTextAsync(), StringComparison.Ordinal);
        Assert.Equal(0, await page.Locator("#identifier").CountAsync());

        // A forged session id is no session either.
        var forged = await H.PageWithCookiesAsync(new string('a', 32), 77);
        Assert.Equal(401, (await forged.GotoAsync(H.LinkUrl.ToString()))!.Status);
        await page.Context.CloseAsync();
        await forged.Context.CloseAsync();
    }

    [Fact]
    public async Task The_anonymous_user_is_refused()
    {
        var sid = await PhpbbSessionTables.SignInAsync(H.Database, 1, createUser: false);
        var page = await H.PageWithCookiesAsync(sid, 1);
        var response = await page.GotoAsync(H.LinkUrl.ToString());
        Assert.Equal(401, response!.Status);
        Assert.Contains("browsing the forum as a guest", await page.Locator("#error").InnerTextAsync(), StringComparison.Ordinal);
        Assert.Equal(0, await page.Locator("#identifier").CountAsync());
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task An_expired_phpBB_session_is_refused()
    {
        var sid = await PhpbbSessionTables.SignInAsync(H.Database, 900, sessionTime: DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 3600 - 120);
        var page = await H.PageWithCookiesAsync(sid, 900);
        Assert.Equal(401, (await page.GotoAsync(H.LinkUrl.ToString()))!.Status);
        Assert.Contains("expired", await page.Locator("#error").InnerTextAsync(), StringComparison.Ordinal);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task The_client_metadata_document_and_JWKS_are_served_at_the_client_id_URL()
    {
        using var http = new HttpClient();
        var metadataUrl = new Uri(H.PublicUrl, "oauth/client-metadata.json");
        using var metadata = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync(metadataUrl));
        var root = metadata.RootElement;
        Assert.Equal(metadataUrl.ToString(), root.GetProperty("client_id").GetString());
        Assert.Equal("private_key_jwt", root.GetProperty("token_endpoint_auth_method").GetString());
        Assert.True(root.GetProperty("dpop_bound_access_tokens").GetBoolean());
        Assert.Equal(new Uri(H.PublicUrl, "oauth/callback").ToString(), Assert.Single(root.GetProperty("redirect_uris").EnumerateArray()).GetString());
        var jwksText = await http.GetStringAsync(root.GetProperty("jwks_uri").GetString());
        using var jwks = System.Text.Json.JsonDocument.Parse(jwksText);
        var key = Assert.Single(jwks.RootElement.GetProperty("keys").EnumerateArray());
        Assert.Equal("EC", key.GetProperty("kty").GetString());
        Assert.True(key.TryGetProperty("kid", out _));
        Assert.False(key.TryGetProperty("d", out _));
    }
}
