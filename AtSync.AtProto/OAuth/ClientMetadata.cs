using System.Text.Json.Nodes;

namespace AtSync.AtProto.OAuth;

/// <summary>
/// The client metadata document served at the <c>client_id</c> URL (AT OAuth: a web client, DPoP-bound tokens, code
/// grant with refresh). A confidential client names its JWKS and authenticates with <c>private_key_jwt</c> (ES256).
/// </summary>
public static class ClientMetadata
{
    public static JsonObject Document(string clientId, string clientName, Uri clientUri, Uri redirectUri, string scope, Uri? jwksUri)
    {
        var document = new JsonObject
        {
            ["client_id"] = clientId,
            ["client_name"] = clientName,
            ["client_uri"] = clientUri.ToString(),
            ["application_type"] = "web",
            ["grant_types"] = new JsonArray("authorization_code", "refresh_token"),
            ["response_types"] = new JsonArray("code"),
            ["redirect_uris"] = new JsonArray(redirectUri.ToString()),
            ["scope"] = scope,
            ["dpop_bound_access_tokens"] = true,
            ["token_endpoint_auth_method"] = jwksUri is null ? "none" : "private_key_jwt",
        };
        if (jwksUri is not null)
        {
            document["token_endpoint_auth_signing_alg"] = DpopKey.Algorithm;
            document["jwks_uri"] = jwksUri.ToString();
        }
        return document;
    }

    /// <summary>The JWKS of a confidential client: its public signing key only.</summary>
    public static JsonObject Jwks(DpopKey clientKey) => new() { ["keys"] = new JsonArray(clientKey.PublicJwk()) };

    /// <summary>
    /// A development client id without a metadata document (AT OAuth localhost clients): <c>http://localhost</c> with
    /// the redirect URI (on 127.0.0.1) and scope as query parameters. Always a public client.
    /// </summary>
    public static string LoopbackClientId(Uri redirectUri, string scope) =>
        $"http://localhost?redirect_uri={Uri.EscapeDataString(redirectUri.ToString())}&scope={Uri.EscapeDataString(scope)}";
}
