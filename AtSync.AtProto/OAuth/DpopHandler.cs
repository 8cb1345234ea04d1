using System.Net;

namespace AtSync.AtProto.OAuth;

/// <summary>
/// Signs resource requests (PDS XRPC calls) that carry a session's DPoP key in <see cref="KeyOption"/>: a fresh proof
/// per request with <c>ath</c> for the <c>Authorization: DPoP</c> token and the server's latest nonce. When the server
/// answers <c>401</c> with <c>WWW-Authenticate: DPoP error="use_dpop_nonce"</c> and a new nonce, the request is sent
/// once more with a proof carrying it (the caller sees one call, so no write attempt is spent on it).
/// Requests without the option pass through untouched.
/// </summary>
public sealed class DpopHandler(DpopNonceCache nonces, TimeProvider time) : DelegatingHandler
{
    public static readonly HttpRequestOptionsKey<DpopKey> KeyOption = new("AtSync.OAuth.DpopKey");

    public const string AuthorizationScheme = "DPoP";

    /// <summary>Retries that a <c>use_dpop_nonce</c> answer caused (for metrics and tests).</summary>
    public long NonceRetries => Interlocked.Read(ref _nonceRetries);

    private long _nonceRetries;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (!request.Options.TryGetValue(KeyOption, out var key) || request.RequestUri is not { } url)
        {
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        var token = request.Headers.Authorization is { Scheme: AuthorizationScheme, Parameter: { Length: > 0 } t } ? t : null;
        Sign(request, key, url, token);
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var fresh = nonces.Update(url, response);
        if (!fresh || !AsksForNonce(response)) return response;

        response.Dispose();
        Interlocked.Increment(ref _nonceRetries);
        Sign(request, key, url, token);
        response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        nonces.Update(url, response);
        return response;
    }

    private void Sign(HttpRequestMessage request, DpopKey key, Uri url, string? token)
    {
        request.Headers.Remove(DpopProof.HeaderName);
        request.Headers.TryAddWithoutValidation(DpopProof.HeaderName, DpopProof.Create(key, request.Method, url, nonces.Get(url), token, time));
    }

    /// <summary>RFC 9449 §9: a resource server demands a nonce with 401 and <c>error="use_dpop_nonce"</c>.</summary>
    public static bool AsksForNonce(HttpResponseMessage response) =>
        response.StatusCode == HttpStatusCode.Unauthorized
        && response.Headers.WwwAuthenticate.Any(h => h.Scheme.Equals(AuthorizationScheme, StringComparison.OrdinalIgnoreCase)
            && h.Parameter?.Contains("error=\"use_dpop_nonce\"", StringComparison.Ordinal) == true);
}
