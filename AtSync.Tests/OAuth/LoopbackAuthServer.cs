using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AtSync.Tests.OAuth;

/// <summary>An access token the server issued: whose, bound to which DPoP key, until when, for what.</summary>
public sealed record IssuedAccess(string SessionId, string Did, string Jkt, DateTimeOffset Expires, string Scope);

/// <summary>One refresh as the server saw it (for "exactly one refresh per expiry" assertions).</summary>
/// <paramref name="ReplacedExpiry"/>: when the access token this refresh replaced was to expire.
public sealed record RefreshEvent(string SessionId, DateTimeOffset At, bool Accepted, string Outcome, DateTimeOffset? ReplacedExpiry = null);

/// <summary>
/// An AT OAuth authorization server on 127.0.0.1 that enforces the protocol: PAR only (the authorize endpoint takes
/// nothing but a pushed <c>request_uri</c>), PKCE S256 verified, DPoP proofs verified on every token-endpoint call
/// (<see cref="DpopVerifier"/>: signature, htm/htu, iat window, jti replay, rotated nonces demanded) and tokens bound
/// to the PAR's key, client metadata fetched from the <c>client_id</c> URL (redirect URI and scope checked),
/// <c>private_key_jwt</c> checked against the client's JWKS, codes and refresh tokens single-use (a reused refresh
/// token revokes the whole session), revocation, and a consent page the user approves.
/// </summary>
public sealed class LoopbackAuthServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly TimeProvider _time;
    private readonly HttpClient _fetch = new(new SocketsHttpHandler { AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(10) };
    private readonly ConcurrentDictionary<string, PushedRequest> _requests = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, PushedRequest> _codes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, IssuedAccess> _access = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _refresh = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _spentRefresh = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Session> _sessions = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _assertionJti = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<RefreshEvent> _refreshes = new();
    private readonly ConcurrentQueue<string> _errors = new();
    private readonly Lock _tokenLock = new();

    private sealed record PushedRequest(string ClientId, string RedirectUri, string Scope, string State, string Challenge, string Jkt, string? LoginHint,
        DateTimeOffset Expires);

    private sealed record Session(string Id, string ClientId, string Did, string Jkt, string Scope)
    {
        public bool Revoked { get; set; }

        public DateTimeOffset LatestAccessExpiry { get; set; }
    }

    private LoopbackAuthServer(WebApplication app, TimeProvider time)
    {
        _app = app;
        _time = time;
        Dpop = new DpopVerifier(time);
    }

    public Uri BaseUri { get; private set; } = null!;

    /// <summary>The issuer: this server's origin, without a trailing slash.</summary>
    public string Issuer => BaseUri.GetLeftPart(UriPartial.Authority);

    public DpopVerifier Dpop { get; }

    /// <summary>Accounts that can sign in: DID → handle.</summary>
    public ConcurrentDictionary<string, string> Accounts { get; } = new(StringComparer.Ordinal);

    public TimeSpan AccessLifetime { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>What <c>scopes_supported</c> lists.</summary>
    public List<string> ScopesSupported { get; } = ["atproto", "transition:generic", "repo:*"];

    /// <summary>A misbehaving server: issues tokens for this DID instead of the one that signed in.</summary>
    public string? SubjectOverride { get; set; }

    /// <summary>Changes the redirect to the client (a tampered answer: wrong state, wrong iss, …).</summary>
    public Func<string, string>? TamperRedirect { get; set; }

    public IReadOnlyList<RefreshEvent> Refreshes => [.. _refreshes];

    /// <summary>Every refusal, as the server would log it (for diagnosing tests).</summary>
    public IReadOnlyList<string> Errors => [.. _errors];

    public int ReusedRefreshTokens => _refreshes.Count(r => r.Outcome == "reused");

    public int RevokedSessions => _sessions.Values.Count(s => s.Revoked);

    public int ParCount => Volatile.Read(ref _parCount);

    private int _parCount;

    public static async Task<LoopbackAuthServer> StartAsync(TimeProvider? time = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new LoopbackAuthServer(app, time ?? TimeProvider.System);
        app.Run(server.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        server.BaseUri = new Uri(address + "/");
        return server;
    }

    /// <summary>The access token's record when it is live (issued here, not revoked, not expired), for the PDS's checks.</summary>
    public (IssuedAccess? Access, string? Error) Introspect(string token)
    {
        if (!_access.TryGetValue(token, out var access)) return (null, "unknown token");
        if (_sessions.TryGetValue(access.SessionId, out var session) && session.Revoked) return (null, "revoked");
        if (access.Expires <= _time.GetUtcNow()) return (null, "expired");
        return (access, null);
    }

    /// <summary>A session made directly (as if the user had linked earlier): returns its tokens, bound to <paramref name="jkt"/>.</summary>
    /// <summary>When the session's latest access token expires.</summary>
    public DateTimeOffset AccessExpiryOf(string did) => _sessions.Values.Where(s => s.Did == did).Max(s => s.LatestAccessExpiry);

    public (string Access, string Refresh) IssueSession(string clientId, string did, string jkt, string scope = "atproto transition:generic")
    {
        var session = new Session(Token("ses"), clientId, did, jkt, scope);
        _sessions[session.Id] = session;
        return IssueTokens(session);
    }

    private async Task HandleAsync(HttpContext ctx)
    {
        var path = ctx.Request.Path.Value ?? "";
        try
        {
            switch (path)
            {
                case "/.well-known/oauth-authorization-server":
                    await Json(ctx, 200, Metadata());
                    return;
                case "/oauth/par" when HttpMethods.IsPost(ctx.Request.Method):
                    await ParAsync(ctx);
                    return;
                case "/oauth/authorize" when HttpMethods.IsGet(ctx.Request.Method):
                    await ConsentPageAsync(ctx);
                    return;
                case "/oauth/authorize" when HttpMethods.IsPost(ctx.Request.Method):
                    await ApproveAsync(ctx);
                    return;
                case "/oauth/token" when HttpMethods.IsPost(ctx.Request.Method):
                    await TokenAsync(ctx);
                    return;
                case "/oauth/revoke" when HttpMethods.IsPost(ctx.Request.Method):
                    await RevokeAsync(ctx);
                    return;
                default:
                    ctx.Response.StatusCode = 404;
                    return;
            }
        }
        catch (OAuthRefusal refusal)
        {
            _errors.Enqueue($"{path}: {refusal.Error}: {refusal.Message}");
            if (refusal.Nonce) ctx.Response.Headers["DPoP-Nonce"] = Dpop.CurrentNonce;
            await Json(ctx, refusal.Status, new JsonObject { ["error"] = refusal.Error, ["error_description"] = refusal.Message });
        }
    }

    private JsonObject Metadata() => new()
    {
        ["issuer"] = Issuer,
        ["authorization_endpoint"] = Issuer + "/oauth/authorize",
        ["token_endpoint"] = Issuer + "/oauth/token",
        ["pushed_authorization_request_endpoint"] = Issuer + "/oauth/par",
        ["revocation_endpoint"] = Issuer + "/oauth/revoke",
        ["require_pushed_authorization_requests"] = true,
        ["response_types_supported"] = new JsonArray("code"),
        ["grant_types_supported"] = new JsonArray("authorization_code", "refresh_token"),
        ["code_challenge_methods_supported"] = new JsonArray("S256"),
        ["dpop_signing_alg_values_supported"] = new JsonArray("ES256"),
        ["token_endpoint_auth_methods_supported"] = new JsonArray("none", "private_key_jwt"),
        ["token_endpoint_auth_signing_alg_values_supported"] = new JsonArray("ES256"),
        ["scopes_supported"] = new JsonArray([.. ScopesSupported.Select(s => (JsonNode)s)]),
        ["authorization_response_iss_parameter_supported"] = true,
        ["client_id_metadata_document_supported"] = true,
    };

    private sealed class OAuthRefusal(int status, string error, string message, bool nonce = false) : Exception(message)
    {
        public int Status { get; } = status;
        public string Error { get; } = error;
        public bool Nonce { get; } = nonce;
    }

    /// <summary>The DPoP proof of a token-endpoint request; a missing or stale nonce is answered with use_dpop_nonce and a fresh one.</summary>
    private async Task<string> ProofAsync(HttpContext ctx)
    {
        var url = new Uri(Issuer + ctx.Request.Path);
        var check = await Dpop.CheckAsync(ctx.Request.Headers["DPoP"].ToString(), ctx.Request.Method, url, null);
        if (check.NeedsNonce) throw new OAuthRefusal(400, "use_dpop_nonce", "Authorization server requires nonce in DPoP proof", nonce: true);
        if (!check.Ok) throw new OAuthRefusal(400, "invalid_dpop_proof", check.Error!);
        ctx.Response.Headers["DPoP-Nonce"] = Dpop.CurrentNonce;
        return check.Thumbprint!;
    }

    private async Task<JsonElement> ClientMetadataAsync(string clientId)
    {
        if (!Uri.TryCreate(clientId, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https") || !url.IsLoopback)
            throw new OAuthRefusal(400, "invalid_client", "client_id must be the URL of a client metadata document (loopback here)");
        using var response = await _fetch.GetAsync(url);
        if (!response.IsSuccessStatusCode) throw new OAuthRefusal(400, "invalid_client", "client metadata could not be fetched");
        var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
        if (document.GetProperty("client_id").GetString() != clientId) throw new OAuthRefusal(400, "invalid_client", "client_id in the metadata differs");
        if (!document.TryGetProperty("dpop_bound_access_tokens", out var bound) || bound.ValueKind != JsonValueKind.True)
            throw new OAuthRefusal(400, "invalid_client", "client must ask for DPoP-bound tokens");
        return document;
    }

    /// <summary>Client authentication as the metadata declares it; private_key_jwt verified against the client's JWKS.</summary>
    private async Task AuthenticateClientAsync(IFormCollection form, JsonElement metadata, string clientId)
    {
        var method = metadata.TryGetProperty("token_endpoint_auth_method", out var m) ? m.GetString() : "none";
        if (method == "none")
        {
            if (form.ContainsKey("client_assertion")) throw new OAuthRefusal(401, "invalid_client", "a public client sent an assertion");
            return;
        }
        if (method != "private_key_jwt") throw new OAuthRefusal(401, "invalid_client", "unsupported client authentication");
        if (form["client_assertion_type"] != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
            throw new OAuthRefusal(401, "invalid_client", "client_assertion_type must be jwt-bearer");
        var assertion = form["client_assertion"].ToString();
        using var jwksResponse = await _fetch.GetAsync(metadata.GetProperty("jwks_uri").GetString());
        var jwks = new JsonWebKeySet(await jwksResponse.Content.ReadAsStringAsync());
        var result = await new JsonWebTokenHandler().ValidateTokenAsync(assertion, new TokenValidationParameters
        {
            IssuerSigningKeys = jwks.Keys,
            ValidIssuer = clientId,
            ValidAudience = Issuer,
            ValidateLifetime = false,
            RequireExpirationTime = true,
            ValidAlgorithms = [SecurityAlgorithms.EcdsaSha256],
        });
        if (!result.IsValid) throw new OAuthRefusal(401, "invalid_client", "client assertion does not verify: " + result.Exception?.GetType().Name);
        var claims = result.Claims;
        if (claims["sub"]?.ToString() != clientId) throw new OAuthRefusal(401, "invalid_client", "assertion sub must be the client_id");
        var now = _time.GetUtcNow().ToUnixTimeSeconds();
        if (!long.TryParse(claims["exp"]?.ToString(), out var exp) || exp < now || !long.TryParse(claims["iat"]?.ToString(), out var iat) || Math.Abs(now - iat) > 120)
            throw new OAuthRefusal(401, "invalid_client", "assertion is expired or not fresh");
        if (!claims.TryGetValue("jti", out var jti) || !_assertionJti.TryAdd(jti.ToString()!, 0))
            throw new OAuthRefusal(401, "invalid_client", "assertion jti was already used");
    }

    private async Task ParAsync(HttpContext ctx)
    {
        var jkt = await ProofAsync(ctx);
        var form = await ctx.Request.ReadFormAsync();
        var clientId = form["client_id"].ToString();
        var metadata = await ClientMetadataAsync(clientId);
        await AuthenticateClientAsync(form, metadata, clientId);
        var redirect = form["redirect_uri"].ToString();
        if (!metadata.GetProperty("redirect_uris").EnumerateArray().Any(r => r.GetString() == redirect))
            throw new OAuthRefusal(400, "invalid_request", "redirect_uri is not registered");
        if (form["response_type"] != "code") throw new OAuthRefusal(400, "unsupported_response_type", "only code");
        if (form["code_challenge_method"] != "S256" || form["code_challenge"].ToString().Length != 43)
            throw new OAuthRefusal(400, "invalid_request", "PKCE S256 is required");
        var state = form["state"].ToString();
        if (state.Length == 0) throw new OAuthRefusal(400, "invalid_request", "state is required");
        var scope = form["scope"].ToString();
        var allowed = (metadata.GetProperty("scope").GetString() ?? "").Split(' ');
        var asked = scope.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (!asked.Contains("atproto") || asked.Any(s => !allowed.Contains(s)))
            throw new OAuthRefusal(400, "invalid_scope", "scope must include atproto and be declared in the client metadata");
        var requestUri = "urn:ietf:params:oauth:request_uri:" + Token("req");
        _requests[requestUri] = new PushedRequest(clientId, redirect, scope, state, form["code_challenge"].ToString(), jkt, form["login_hint"].ToString(),
            _time.GetUtcNow().AddSeconds(300));
        Interlocked.Increment(ref _parCount);
        await Json(ctx, 201, new JsonObject { ["request_uri"] = requestUri, ["expires_in"] = 300 });
    }

    private async Task ConsentPageAsync(HttpContext ctx)
    {
        var requestUri = ctx.Request.Query["request_uri"].ToString();
        if (ctx.Request.Query.ContainsKey("redirect_uri") || ctx.Request.Query.ContainsKey("code_challenge")
            || !_requests.TryGetValue(requestUri, out var request) || request.ClientId != ctx.Request.Query["client_id"] || request.Expires < _time.GetUtcNow())
        {
            ctx.Response.StatusCode = 400;
            await ctx.Response.WriteAsync("<!DOCTYPE html><title>Bad request</title><p>Pushed authorization request required.</p>");
            return;
        }
        var account = Accounts.FirstOrDefault(a => a.Value == request.LoginHint || a.Key == request.LoginHint);
        if (account.Key is null)
        {
            ctx.Response.StatusCode = 400;
            await ctx.Response.WriteAsync("<!DOCTYPE html><title>Unknown account</title><p>No such account here.</p>");
            return;
        }
        ctx.Response.ContentType = "text/html; charset=utf-8";
        var e = System.Text.Encodings.Web.HtmlEncoder.Default;
        await ctx.Response.WriteAsync($"""
            <!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Authorize</title></head><body><main>
            <h1>Sign in as @{e.Encode(account.Value)}</h1>
            <p>{e.Encode(request.ClientId)} asks for: {e.Encode(request.Scope)}</p>
            <form method="post" action="/oauth/authorize">
            <input type="hidden" name="request_uri" value="{e.Encode(requestUri)}">
            <input type="hidden" name="did" value="{e.Encode(account.Key)}">
            <button type="submit" name="decision" value="approve">Approve</button>
            <button type="submit" name="decision" value="deny">Deny</button>
            </form></main></body></html>
            """);
    }

    private async Task ApproveAsync(HttpContext ctx)
    {
        var form = await ctx.Request.ReadFormAsync();
        if (!_requests.TryRemove(form["request_uri"].ToString(), out var request))
        {
            ctx.Response.StatusCode = 400;
            return;
        }
        var did = form["did"].ToString();
        string location;
        if (form["decision"] != "approve")
        {
            location = $"{request.RedirectUri}?error=access_denied&state={Uri.EscapeDataString(request.State)}&iss={Uri.EscapeDataString(Issuer)}";
        }
        else
        {
            var code = Token("cod");
            _codes[code] = request with { LoginHint = did, Expires = _time.GetUtcNow().AddSeconds(60) };
            location = $"{request.RedirectUri}?code={Uri.EscapeDataString(code)}&state={Uri.EscapeDataString(request.State)}&iss={Uri.EscapeDataString(Issuer)}";
        }
        ctx.Response.StatusCode = 303;
        ctx.Response.Headers.Location = TamperRedirect?.Invoke(location) ?? location;
    }

    private async Task TokenAsync(HttpContext ctx)
    {
        var jkt = await ProofAsync(ctx);
        var form = await ctx.Request.ReadFormAsync();
        var clientId = form["client_id"].ToString();
        var metadata = await ClientMetadataAsync(clientId);
        await AuthenticateClientAsync(form, metadata, clientId);
        switch (form["grant_type"].ToString())
        {
            case "authorization_code":
            {
                if (!_codes.TryRemove(form["code"].ToString(), out var request) || request.Expires < _time.GetUtcNow())
                    throw new OAuthRefusal(400, "invalid_grant", "unknown, used or expired code");
                if (request.ClientId != clientId || request.RedirectUri != form["redirect_uri"]) throw new OAuthRefusal(400, "invalid_grant", "client or redirect_uri differs");
                if (request.Jkt != jkt) throw new OAuthRefusal(400, "invalid_dpop_proof", "DPoP key differs from the PAR's");
                var verifier = form["code_verifier"].ToString();
                var challenge = Base64Url.EncodeToString(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
                if (verifier.Length < 43 || challenge != request.Challenge) throw new OAuthRefusal(400, "invalid_grant", "PKCE verification failed");
                var session = new Session(Token("ses"), clientId, SubjectOverride ?? request.LoginHint!, jkt, request.Scope);
                _sessions[session.Id] = session;
                var (access, refresh) = IssueTokens(session);
                await Json(ctx, 200, TokenResponse(session, access, refresh));
                return;
            }
            case "refresh_token":
            {
                var presented = form["refresh_token"].ToString();
                string access, refresh;
                Session session;
                lock (_tokenLock)
                {
                    if (_spentRefresh.ContainsKey(presented))
                    {
                        // RFC 9700 §4.14.2: a reused refresh token means it leaked; end the whole session.
                        if (TrySessionOfSpent(presented, out var stolen)) stolen.Revoked = true;
                        _refreshes.Enqueue(new RefreshEvent(_spentSessions.GetValueOrDefault(presented, "?"), _time.GetUtcNow(), false, "reused"));
                        throw new OAuthRefusal(400, "invalid_grant", "refresh token was already used; the session is revoked");
                    }
                    if (!_refresh.TryRemove(presented, out var sessionId) || !_sessions.TryGetValue(sessionId, out session!) || session.Revoked)
                    {
                        _refreshes.Enqueue(new RefreshEvent("?", _time.GetUtcNow(), false, "unknown"));
                        throw new OAuthRefusal(400, "invalid_grant", "unknown or revoked refresh token");
                    }
                    _spentRefresh[presented] = 0;
                    _spentSessions[presented] = sessionId;
                    if (session.Jkt != jkt || session.ClientId != clientId)
                    {
                        session.Revoked = true;
                        _refreshes.Enqueue(new RefreshEvent(sessionId, _time.GetUtcNow(), false, "wrong_key"));
                        throw new OAuthRefusal(400, "invalid_grant", "refresh with another DPoP key or client");
                    }
                    var replaced = session.LatestAccessExpiry;
                    (access, refresh) = IssueTokens(session);
                    _refreshes.Enqueue(new RefreshEvent(sessionId, _time.GetUtcNow(), true, "ok", replaced));
                }
                await Json(ctx, 200, TokenResponse(session, access, refresh));
                return;
            }
            default:
                throw new OAuthRefusal(400, "unsupported_grant_type", "authorization_code or refresh_token");
        }
    }

    private readonly ConcurrentDictionary<string, string> _spentSessions = new(StringComparer.Ordinal);

    private bool TrySessionOfSpent(string token, out Session session)
    {
        session = null!;
        return _spentSessions.TryGetValue(token, out var id) && _sessions.TryGetValue(id, out session!);
    }

    private async Task RevokeAsync(HttpContext ctx)
    {
        await ProofAsync(ctx);
        var form = await ctx.Request.ReadFormAsync();
        var token = form["token"].ToString();
        if (_refresh.TryRemove(token, out var sessionId) && _sessions.TryGetValue(sessionId, out var session)) session.Revoked = true;
        if (_access.TryGetValue(token, out var access) && _sessions.TryGetValue(access.SessionId, out var s2)) s2.Revoked = true;
        ctx.Response.StatusCode = 200;
    }

    /// <summary>Whether the session of this DID was revoked (unlinking, token reuse).</summary>
    public bool IsRevoked(string did) => _sessions.Values.Any(s => s.Did == did && s.Revoked);

    private (string Access, string Refresh) IssueTokens(Session session)
    {
        var access = Token("acc");
        var refresh = Token("ref");
        session.LatestAccessExpiry = _time.GetUtcNow() + AccessLifetime;
        _access[access] = new IssuedAccess(session.Id, session.Did, session.Jkt, session.LatestAccessExpiry, session.Scope);
        _refresh[refresh] = session.Id;
        return (access, refresh);
    }

    private JsonObject TokenResponse(Session session, string access, string refresh) => new()
    {
        ["access_token"] = access,
        ["token_type"] = "DPoP",
        ["refresh_token"] = refresh,
        ["expires_in"] = (long)AccessLifetime.TotalSeconds,
        ["scope"] = session.Scope,
        ["sub"] = session.Did,
    };

    private static string Token(string kind) => kind + "-" + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(24));

    private static async Task Json(HttpContext ctx, int status, JsonObject body)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json";
        ctx.Response.Headers.CacheControl = "no-store";
        await ctx.Response.WriteAsync(body.ToJsonString());
    }

    public async ValueTask DisposeAsync()
    {
        _fetch.Dispose();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _app.StopAsync(cts.Token);
        await _app.DisposeAsync();
    }
}
