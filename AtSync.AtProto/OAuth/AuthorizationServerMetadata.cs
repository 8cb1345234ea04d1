using System.Text.Json;

namespace AtSync.AtProto.OAuth;

/// <summary>
/// An authorization server's metadata (RFC 8414, <c>/.well-known/oauth-authorization-server</c>), checked against the
/// AT OAuth profile: the issuer is the one the PDS named, PAR, PKCE S256, DPoP ES256, the <c>atproto</c> scope, and
/// <c>iss</c> in authorization responses.
/// </summary>
public sealed record AuthorizationServerMetadata(
    string Issuer,
    Uri AuthorizationEndpoint,
    Uri TokenEndpoint,
    Uri PushedAuthorizationRequestEndpoint,
    Uri? RevocationEndpoint,
    IReadOnlyList<string> ScopesSupported,
    IReadOnlyList<string> TokenEndpointAuthMethods)
{
    public const string WellKnownPath = "/.well-known/oauth-authorization-server";

    public bool SupportsPrivateKeyJwt => TokenEndpointAuthMethods.Contains("private_key_jwt", StringComparer.Ordinal);

    public static AuthorizationServerMetadata Parse(JsonElement root, string expectedIssuer, OAuthUrls urls)
    {
        var issuer = root.String("issuer");
        if (!string.Equals(issuer, expectedIssuer, StringComparison.Ordinal))
        {
            throw new OAuthException(OAuthException.ProtocolViolation, "the authorization server's metadata names another issuer");
        }
        if (!root.Strings("code_challenge_methods_supported").Contains(Pkce.Method, StringComparer.Ordinal))
        {
            throw new OAuthException(OAuthException.ProtocolViolation, "the authorization server does not support PKCE S256");
        }
        if (!root.Strings("dpop_signing_alg_values_supported").Contains(DpopKey.Algorithm, StringComparer.Ordinal))
        {
            throw new OAuthException(OAuthException.ProtocolViolation, "the authorization server does not accept ES256 DPoP proofs");
        }
        var scopes = root.Strings("scopes_supported");
        if (!scopes.Contains("atproto", StringComparer.Ordinal))
        {
            throw new OAuthException(OAuthException.ProtocolViolation, "the authorization server does not offer the atproto scope");
        }
        if (!root.True("authorization_response_iss_parameter_supported"))
        {
            throw new OAuthException(OAuthException.ProtocolViolation, "the authorization server does not send iss with its responses");
        }
        var revocation = root.String("revocation_endpoint");
        return new AuthorizationServerMetadata(
            issuer!,
            urls.Require(root.String("authorization_endpoint"), "authorization_endpoint"),
            urls.Require(root.String("token_endpoint"), "token_endpoint"),
            urls.Require(root.String("pushed_authorization_request_endpoint"), "pushed_authorization_request_endpoint"),
            revocation is null ? null : urls.Require(revocation, "revocation_endpoint"),
            scopes,
            root.Strings("token_endpoint_auth_methods_supported"));
    }
}
