using System.Text.Json;

namespace AtSync.AtProto.OAuth;

/// <summary>
/// The AT OAuth client's calls to an authorization server, each DPoP-signed with the session's key: PAR (with PKCE,
/// state and login hint), the code exchange, refresh and revocation. Every answer's <c>DPoP-Nonce</c> is kept per
/// server; a <c>use_dpop_nonce</c> error is retried once with the new nonce. A confidential client adds a fresh
/// <c>private_key_jwt</c> assertion to every call.
/// </summary>
public sealed class OAuthClient(HttpClient http, OAuthClientIdentity client, DpopNonceCache nonces, TimeProvider time)
{
    public OAuthClientIdentity Client => client;

    /// <summary>Pushes the authorization request; the browser then goes to <see cref="PushedAuthorization.AuthorizeUrl"/>.</summary>
    public async Task<PushedAuthorization> PushAuthorizationAsync(AuthorizationServerMetadata server, AuthorizationRequest request, DpopKey dpopKey, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(request);
        var form = new List<KeyValuePair<string, string>>
        {
            new("response_type", "code"),
            new("redirect_uri", request.RedirectUri.ToString()),
            new("scope", request.Scope),
            new("state", request.State),
            new("code_challenge", request.Pkce.Challenge),
            new("code_challenge_method", Pkce.Method),
        };
        if (!string.IsNullOrEmpty(request.LoginHint)) form.Add(new("login_hint", request.LoginHint));
        using var answer = await PostAsync(server.PushedAuthorizationRequestEndpoint, server.Issuer, form, dpopKey, "pushed authorization request", cancellationToken).ConfigureAwait(false);
        var root = answer.RootElement;
        var requestUri = root.String("request_uri");
        if (string.IsNullOrEmpty(requestUri) || requestUri.Length > 2048)
        {
            throw new OAuthException(OAuthException.ProtocolViolation, "the PAR response has no request_uri");
        }
        var expiresIn = root.TryGetProperty("expires_in", out var e) && e.TryGetInt32(out var s) && s is > 0 and <= 3600 ? s : 60;
        var authorize = new UriBuilder(server.AuthorizationEndpoint)
        {
            Query = $"client_id={Uri.EscapeDataString(client.ClientId)}&request_uri={Uri.EscapeDataString(requestUri)}",
        }.Uri;
        return new PushedAuthorization(requestUri, authorize, TimeSpan.FromSeconds(expiresIn));
    }

    /// <summary>Exchanges the callback's code. The caller must check <see cref="TokenSet.Subject"/> against the resolved DID.</summary>
    public async Task<TokenSet> ExchangeCodeAsync(AuthorizationServerMetadata server, string code, Uri redirectUri, Pkce pkce, DpopKey dpopKey, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentException.ThrowIfNullOrEmpty(code);
        var form = new List<KeyValuePair<string, string>>
        {
            new("grant_type", "authorization_code"),
            new("code", code),
            new("redirect_uri", redirectUri.ToString()),
            new("code_verifier", pkce.Verifier),
        };
        using var answer = await PostAsync(server.TokenEndpoint, server.Issuer, form, dpopKey, "code exchange", cancellationToken).ConfigureAwait(false);
        return TokenSet.Parse(answer.RootElement, time);
    }

    /// <summary>
    /// Spends <paramref name="refreshToken"/> (single-use) for new tokens. <see cref="OAuthException.IsInvalidGrant"/>
    /// means the session is gone and the user must sign in again.
    /// </summary>
    public async Task<TokenSet> RefreshAsync(Uri tokenEndpoint, string issuer, string refreshToken, DpopKey dpopKey, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tokenEndpoint);
        ArgumentException.ThrowIfNullOrEmpty(refreshToken);
        var form = new List<KeyValuePair<string, string>> { new("grant_type", "refresh_token"), new("refresh_token", refreshToken) };
        using var answer = await PostAsync(tokenEndpoint, issuer, form, dpopKey, "refresh", cancellationToken).ConfigureAwait(false);
        return TokenSet.Parse(answer.RootElement, time);
    }

    /// <summary>Revokes a token (RFC 7009). A server without a revocation endpoint has nothing to revoke here.</summary>
    public async Task RevokeAsync(AuthorizationServerMetadata server, string token, DpopKey dpopKey, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(server);
        if (server.RevocationEndpoint is not { } endpoint) return;
        var form = new List<KeyValuePair<string, string>> { new("token", token) };
        using var answer = await PostAsync(endpoint, server.Issuer, form, dpopKey, "revocation", cancellationToken, allowEmpty: true).ConfigureAwait(false);
    }

    /// <summary>A server that echoes what it was sent (code, verifier, refresh token) must not put it in a message.</summary>
    private static string? Redact(string? text, List<KeyValuePair<string, string>> fields)
    {
        if (string.IsNullOrEmpty(text)) return text;
        foreach (var (name, value) in fields)
        {
            if (name is "code" or "code_verifier" or "refresh_token" or "token" && value.Length >= 4)
            {
                text = text.Replace(value, "[redacted]", StringComparison.Ordinal);
            }
        }
        return text;
    }

    private async Task<JsonDocument> PostAsync(Uri endpoint, string issuer, List<KeyValuePair<string, string>> fields, DpopKey dpopKey,
        string what, CancellationToken cancellationToken, bool allowEmpty = false)
    {
        for (var attempt = 0; ; attempt++)
        {
            var form = new List<KeyValuePair<string, string>>(fields);
            // A fresh assertion per request: its jti is single-use too.
            client.AddTo(form, issuer, time);
            using var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = new FormUrlEncodedContent(form) };
            request.Headers.Accept.ParseAdd("application/json");
            request.Headers.TryAddWithoutValidation(DpopProof.HeaderName,
                DpopProof.Create(dpopKey, HttpMethod.Post, endpoint, nonces.Get(endpoint), accessToken: null, time));
            HttpResponseMessage response;
            try
            {
                response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException ex)
            {
                throw new OAuthException(OAuthException.Unavailable, $"{what}: the authorization server is not reachable ({ex.HttpRequestError})", null, ex);
            }
            catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
            {
                throw new OAuthException(OAuthException.Unavailable, $"{what}: the authorization server did not answer in time", null, ex);
            }
            using (response)
            {
                var newNonce = nonces.Update(endpoint, response);
                var (document, status) = await BoundedJson.ReadAsync(response, what, cancellationToken).ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                {
                    if (document is not null) return document;
                    if (allowEmpty) return JsonDocument.Parse("{}");
                    throw new OAuthException(OAuthException.ProtocolViolation, $"{what}: empty answer", status);
                }
                using (document)
                {
                    var error = document?.RootElement.String("error");
                    var errorCode = error is { Length: > 0 and <= 64 } && error.All(c => char.IsAsciiLetterOrDigit(c) || c == '_') ? error : "server_error";
                    if (errorCode == "use_dpop_nonce" && newNonce && attempt == 0) continue;
                    var description = BoundedJson.Clip(Redact(document?.RootElement.String("error_description"), fields));
                    throw new OAuthException(errorCode,
                        $"{what}: the authorization server refused ({errorCode}{(description.Length > 0 ? ": " + description : "")})", status);
                }
            }
        }
    }
}
