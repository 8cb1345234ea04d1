using System.Buffers.Text;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AtSync.AtProto.Identity;
using AtSync.AtProto.OAuth;
using AtSync.AtProto.Xrpc;

namespace AtSync.Tests.OAuth;

/// <summary>The OAuth client library against the enforcing loopback authorization server, and the checks both sides make.</summary>
public sealed class OAuthProtocolTests : IAsyncLifetime
{
    private OAuthClientHost _client = null!;
    private LoopbackAtNetwork _network = null!;
    private readonly HttpClient _http = new(new SocketsHttpHandler { AllowAutoRedirect = false });

    public async Task InitializeAsync()
    {
        _client = await OAuthClientHost.StartAsync();
        _network = await LoopbackAtNetwork.StartAsync();
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _network.DisposeAsync();
        await _client.DisposeAsync();
    }

    private OAuthClient Client(OAuthClientIdentity? identity = null) => new(_http, identity ?? _client.Client.Identity, new DpopNonceCache(), TimeProvider.System);

    private AccountResolver Resolver() => new(_http, new DidResolver(_http, new DidResolverOptions { PlcDirectory = _network.Plc.BaseUri }),
        new XrpcClient(_http).WithService(_network.PdsUri), new OAuthUrls(allowLoopbackHttp: true));

    private static JsonElement Payload(string jwt) =>
        JsonDocument.Parse(Base64Url.DecodeFromChars(jwt.Split('.')[1])).RootElement;

    private static JsonElement Header(string jwt) =>
        JsonDocument.Parse(Base64Url.DecodeFromChars(jwt.Split('.')[0])).RootElement;

    [Fact]
    public async Task A_DPoP_proof_names_the_request_without_query_binds_the_token_and_verifies()
    {
        using var key = DpopKey.Generate();
        var url = new Uri("http://127.0.0.1:8080/xrpc/com.atproto.repo.createRecord?x=1#frag");
        var proof = DpopProof.Create(key, HttpMethod.Post, url, "nonce-1", "access-token-value", TimeProvider.System);
        var header = Header(proof);
        Assert.Equal("dpop+jwt", header.GetProperty("typ").GetString());
        Assert.Equal("ES256", header.GetProperty("alg").GetString());
        Assert.False(header.GetProperty("jwk").TryGetProperty("d", out _));
        var payload = Payload(proof);
        Assert.Equal("POST", payload.GetProperty("htm").GetString());
        Assert.Equal("http://127.0.0.1:8080/xrpc/com.atproto.repo.createRecord", payload.GetProperty("htu").GetString());
        Assert.Equal("nonce-1", payload.GetProperty("nonce").GetString());
        Assert.Equal(DpopProof.AccessTokenHash("access-token-value"), payload.GetProperty("ath").GetString());
        Assert.InRange(payload.GetProperty("iat").GetInt64(), DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 5, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 5);
        Assert.NotEqual(payload.GetProperty("jti").GetString(), Payload(DpopProof.Create(key, HttpMethod.Post, url, null, null, TimeProvider.System)).GetProperty("jti").GetString());

        var verifier = new DpopVerifier(TimeProvider.System);
        var withNonce = DpopProof.Create(key, HttpMethod.Post, url, verifier.CurrentNonce, "access-token-value", TimeProvider.System);
        var ok = await verifier.CheckAsync(withNonce, "POST", url, "access-token-value");
        Assert.True(ok.Ok, ok.Error);
        Assert.Equal(key.Thumbprint, ok.Thumbprint);
    }

    [Fact]
    public async Task The_verifier_refuses_replays_stale_iat_wrong_htm_htu_ath_missing_nonce_and_a_foreign_signature()
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        var verifier = new DpopVerifier(clock) { RotateEvery = 1000 };
        using var key = DpopKey.Generate();
        using var other = DpopKey.Generate();
        var url = new Uri("http://127.0.0.1:1/oauth/token");
        string Proof(string? nonce, string? token = null, Uri? at = null, HttpMethod? method = null) =>
            DpopProof.Create(key, method ?? HttpMethod.Post, at ?? url, nonce, token, clock);

        Assert.True((await verifier.CheckAsync(Proof(null), "POST", url, null)).NeedsNonce);
        var good = Proof(verifier.CurrentNonce);
        Assert.True((await verifier.CheckAsync(good, "POST", url, null)).Ok);
        Assert.Equal("jti was already used", (await verifier.CheckAsync(good, "POST", url, null)).Error);
        Assert.Equal("htm is not this request's method", (await verifier.CheckAsync(Proof(verifier.CurrentNonce, method: HttpMethod.Get), "POST", url, null)).Error);
        Assert.Equal("htu is not this request's URL", (await verifier.CheckAsync(Proof(verifier.CurrentNonce, at: new Uri("http://127.0.0.1:1/oauth/par")), "POST", url, null)).Error);
        Assert.Equal("ath does not match the access token", (await verifier.CheckAsync(Proof(verifier.CurrentNonce, "token-a"), "POST", url, "token-b")).Error);
        var old = Proof(verifier.CurrentNonce);
        clock.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal("iat is outside the accepted window", (await verifier.CheckAsync(old, "POST", url, null)).Error);

        // A header jwk of one key with the signature of another.
        var parts = Proof(verifier.CurrentNonce).Split('.');
        var forged = DpopProof.Create(other, HttpMethod.Post, url, verifier.CurrentNonce, null, clock).Split('.');
        Assert.Equal("the DPoP signature does not verify with its jwk", (await verifier.CheckAsync($"{parts[0]}.{parts[1]}.{forged[2]}", "POST", url, null)).Error);
    }

    [Fact]
    public async Task Resolution_follows_handle_DID_document_PDS_and_protected_resource_to_the_issuer()
    {
        var did = _network.AddAccount("resolve.forum-test.net");
        var account = await Resolver().ResolveAsync("@Resolve.Forum-Test.net");
        Assert.Equal(did, account.Did.Value);
        Assert.Equal("resolve.forum-test.net", account.Handle?.Value);
        Assert.Equal(_network.Auth.Issuer, account.Server.Issuer);
        Assert.Equal(new Uri(_network.Auth.Issuer + "/oauth/par"), account.Server.PushedAuthorizationRequestEndpoint);

        // A handle whose DID document claims another handle is not that account.
        _network.HandleToDid["impostor.forum-test.net"] = did;
        var impostor = await Assert.ThrowsAsync<OAuthException>(() => Resolver().ResolveAsync("impostor.forum-test.net"));
        Assert.Equal("invalid_identifier", impostor.Error);
        Assert.Equal("invalid_identifier", (await Assert.ThrowsAsync<OAuthException>(() => Resolver().ResolveAsync("nobody.forum-test.net"))).Error);
    }

    [Fact]
    public void Metadata_naming_another_issuer_or_lacking_PKCE_or_DPoP_is_refused()
    {
        var urls = new OAuthUrls(allowLoopbackHttp: true);
        JsonObject Good() => new()
        {
            ["issuer"] = "https://auth.example.com",
            ["authorization_endpoint"] = "https://auth.example.com/oauth/authorize",
            ["token_endpoint"] = "https://auth.example.com/oauth/token",
            ["pushed_authorization_request_endpoint"] = "https://auth.example.com/oauth/par",
            ["code_challenge_methods_supported"] = new JsonArray("S256"),
            ["dpop_signing_alg_values_supported"] = new JsonArray("ES256"),
            ["scopes_supported"] = new JsonArray("atproto", "transition:generic"),
            ["authorization_response_iss_parameter_supported"] = true,
        };
        JsonElement E(JsonObject o) => JsonDocument.Parse(o.ToJsonString()).RootElement;
        Assert.Equal("https://auth.example.com", AuthorizationServerMetadata.Parse(E(Good()), "https://auth.example.com", urls).Issuer);
        Assert.Throws<OAuthException>(() => AuthorizationServerMetadata.Parse(E(Good()), "https://evil.example.com", urls));
        var noPkce = Good();
        noPkce["code_challenge_methods_supported"] = new JsonArray("plain");
        Assert.Throws<OAuthException>(() => AuthorizationServerMetadata.Parse(E(noPkce), "https://auth.example.com", urls));
        var noDpop = Good();
        noDpop["dpop_signing_alg_values_supported"] = new JsonArray("RS256");
        Assert.Throws<OAuthException>(() => AuthorizationServerMetadata.Parse(E(noDpop), "https://auth.example.com", urls));
        var httpEndpoint = Good();
        httpEndpoint["token_endpoint"] = "http://auth.example.com/oauth/token";
        Assert.Throws<OAuthException>(() => AuthorizationServerMetadata.Parse(E(httpEndpoint), "https://auth.example.com", urls));
        var privateEndpoint = Good();
        privateEndpoint["token_endpoint"] = "https://10.0.0.5/oauth/token";
        Assert.Throws<OAuthException>(() => AuthorizationServerMetadata.Parse(E(privateEndpoint), "https://auth.example.com", new OAuthUrls(false)));
    }

    [Fact]
    public void Scopes_are_the_narrowest_the_server_offers()
    {
        Assert.Equal("atproto repo:net.vza.forum.post", OAuthScopes.For(["atproto", "repo:*", "transition:generic"], ["net.vza.forum.post"]));
        Assert.Equal("atproto transition:generic", OAuthScopes.For(["atproto", "transition:generic"], ["net.vza.forum.post"]));
        Assert.True(OAuthScopes.AllowsWrites("atproto repo:net.vza.forum.post", "net.vza.forum.post"));
        Assert.False(OAuthScopes.AllowsWrites("atproto repo:net.vza.forum.board", "net.vza.forum.post"));
        Assert.False(OAuthScopes.AllowsWrites("repo:net.vza.forum.post", "net.vza.forum.post"));
    }

    private async Task<(AuthorizationServerMetadata Server, Pkce Pkce, DpopKey Key, string Code)> AuthorizeAsync(string handle)
    {
        _network.AddAccount(handle);
        var account = await Resolver().ResolveAsync(handle);
        var key = DpopKey.Generate();
        var pkce = Pkce.Create();
        var pushed = await Client().PushAuthorizationAsync(account.Server,
            new AuthorizationRequest(_client.Client.RedirectUri, "atproto repo:net.vza.forum.post", "state-1", pkce, handle), key);
        // The consent page, then the user's approval.
        using var consent = await _http.GetAsync(pushed.AuthorizeUrl);
        Assert.Equal(HttpStatusCode.OK, consent.StatusCode);
        using var approve = await _http.PostAsync(_network.Auth.Issuer + "/oauth/authorize", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["request_uri"] = pushed.RequestUri, ["did"] = account.Did.Value, ["decision"] = "approve",
        }));
        var location = new Uri(approve.Headers.Location!.ToString());
        Assert.StartsWith(_client.Client.RedirectUri.ToString(), location.ToString(), StringComparison.Ordinal);
        var query = System.Web.HttpUtility.ParseQueryString(location.Query);
        Assert.Equal("state-1", query["state"]);
        Assert.Equal(_network.Auth.Issuer, query["iss"]);
        return (account.Server, pkce, key, query["code"]!);
    }

    [Fact]
    public async Task The_full_flow_gets_DPoP_bound_tokens_after_one_nonce_round_trip_and_the_code_is_single_use()
    {
        var (server, pkce, key, code) = await AuthorizeAsync("flow.forum-test.net");
        var client = Client();
        var tokens = await client.ExchangeCodeAsync(server, code, _client.Client.RedirectUri, pkce, key);
        Assert.Equal("atproto repo:net.vza.forum.post", tokens.Scope);
        // PAR and the exchange each met the server's nonce demand once (the client retried with the nonce).
        Assert.Contains(_network.Auth.Errors, e => e.StartsWith("/oauth/par: use_dpop_nonce", StringComparison.Ordinal));
        Assert.Equal(key.Thumbprint, _network.Auth.Introspect(tokens.AccessToken).Access!.Jkt);
        Assert.DoesNotContain(tokens.AccessToken, tokens.ToString(), StringComparison.Ordinal);
        var again = await Assert.ThrowsAsync<OAuthException>(() => client.ExchangeCodeAsync(server, code, _client.Client.RedirectUri, pkce, key));
        Assert.True(again.IsInvalidGrant);
        Assert.DoesNotContain(code, again.Message, StringComparison.Ordinal);

        // Refresh tokens are single-use: the rotated one works, the spent one is refused and ends the session.
        var refreshed = await client.RefreshAsync(server.TokenEndpoint, server.Issuer, tokens.RefreshToken!, key);
        Assert.NotEqual(tokens.RefreshToken, refreshed.RefreshToken);
        Assert.True((await Assert.ThrowsAsync<OAuthException>(() => client.RefreshAsync(server.TokenEndpoint, server.Issuer, tokens.RefreshToken!, key))).IsInvalidGrant);
        Assert.Equal("revoked", _network.Auth.Introspect(refreshed.AccessToken).Error);
        Assert.True((await Assert.ThrowsAsync<OAuthException>(() => client.RefreshAsync(server.TokenEndpoint, server.Issuer, refreshed.RefreshToken!, key))).IsInvalidGrant);
    }

    [Fact]
    public async Task A_wrong_PKCE_verifier_or_another_DPoP_key_cannot_exchange_the_code()
    {
        var (server, _, key, code) = await AuthorizeAsync("pkce.forum-test.net");
        var wrongVerifier = await Assert.ThrowsAsync<OAuthException>(() => Client().ExchangeCodeAsync(server, code, _client.Client.RedirectUri, Pkce.Create(), key));
        Assert.True(wrongVerifier.IsInvalidGrant);

        var (server2, pkce2, _, code2) = await AuthorizeAsync("dpopkey.forum-test.net");
        using var stranger = DpopKey.Generate();
        var wrongKey = await Assert.ThrowsAsync<OAuthException>(() => Client().ExchangeCodeAsync(server2, code2, _client.Client.RedirectUri, pkce2, stranger));
        Assert.Equal("invalid_dpop_proof", wrongKey.Error);
    }

    [Fact]
    public async Task The_authorization_endpoint_takes_only_pushed_requests_and_the_client_must_prove_its_key()
    {
        _network.AddAccount("par.forum-test.net");
        var direct = $"{_network.Auth.Issuer}/oauth/authorize?client_id={Uri.EscapeDataString(_client.Client.Identity.ClientId)}&response_type=code"
            + $"&redirect_uri={Uri.EscapeDataString(_client.Client.RedirectUri.ToString())}&code_challenge=abc&code_challenge_method=S256&state=s";
        using var response = await _http.GetAsync(direct);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);

        // The same client_id with an assertion signed by a key that is not in the client's JWKS.
        var account = await Resolver().ResolveAsync("par.forum-test.net");
        using var notTheClientKey = DpopKey.Generate("forged-kid");
        using var dpop = DpopKey.Generate();
        var impostor = Client(new OAuthClientIdentity(_client.Client.Identity.ClientId, notTheClientKey));
        var refused = await Assert.ThrowsAsync<OAuthException>(() => impostor.PushAuthorizationAsync(account.Server,
            new AuthorizationRequest(_client.Client.RedirectUri, "atproto", "s", Pkce.Create(), null), dpop));
        Assert.Equal("invalid_client", refused.Error);
        // A redirect URI the client did not register.
        var badRedirect = await Assert.ThrowsAsync<OAuthException>(() => Client().PushAuthorizationAsync(account.Server,
            new AuthorizationRequest(new Uri("http://127.0.0.1:9/elsewhere"), "atproto", "s", Pkce.Create(), null), dpop));
        Assert.Equal("invalid_request", badRedirect.Error);
        Assert.Equal(0, _network.Auth.ParCount);
    }
}
