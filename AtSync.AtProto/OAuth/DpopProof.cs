using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace AtSync.AtProto.OAuth;

/// <summary>DPoP proof JWTs (RFC 9449): one per HTTP request, bound to its method and URL, and to the access token when one is sent.</summary>
public static class DpopProof
{
    public const string HeaderName = "DPoP";
    public const string NonceHeaderName = "DPoP-Nonce";
    public const string TokenType = "dpop+jwt";

    /// <param name="nonce">The server's latest <c>DPoP-Nonce</c>, when it gave one.</param>
    /// <param name="accessToken">The access token sent with the request (gives <c>ath</c>); null for token-endpoint calls.</param>
    public static string Create(DpopKey key, HttpMethod method, Uri url, string? nonce, string? accessToken, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(url);
        ArgumentNullException.ThrowIfNull(time);
        var header = new JsonObject { ["typ"] = TokenType, ["alg"] = DpopKey.Algorithm, ["jwk"] = key.PublicJwk() };
        var payload = new JsonObject
        {
            ["jti"] = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(16)),
            ["htm"] = method.Method,
            ["htu"] = TargetUri(url),
            ["iat"] = time.GetUtcNow().ToUnixTimeSeconds(),
        };
        if (nonce is not null)
        {
            payload["nonce"] = nonce;
        }
        if (accessToken is not null)
        {
            payload["ath"] = AccessTokenHash(accessToken);
        }
        return CompactJws.Sign(header, payload, key);
    }

    /// <summary>The <c>htu</c> claim: the request URL without query and fragment.</summary>
    public static string TargetUri(Uri url) => url.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped);

    /// <summary>The <c>ath</c> claim: base64url(SHA-256(ASCII(access token))).</summary>
    public static string AccessTokenHash(string accessToken) => Base64Url.EncodeToString(SHA256.HashData(Encoding.ASCII.GetBytes(accessToken)));
}
