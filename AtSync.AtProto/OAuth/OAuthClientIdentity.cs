using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace AtSync.AtProto.OAuth;

/// <summary>
/// Who this client is to authorization servers: its <c>client_id</c> (the URL of its metadata document, or a
/// <c>http://localhost?…</c> development id) and, for a confidential client, the key it authenticates with
/// (<c>private_key_jwt</c>; a key of its own, never a session's DPoP key).
/// </summary>
public sealed class OAuthClientIdentity(string clientId, DpopKey? signingKey = null)
{
    public const string AssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

    public string ClientId { get; } = !string.IsNullOrEmpty(clientId) ? clientId : throw new ArgumentException("client_id is required.", nameof(clientId));

    public DpopKey? SigningKey { get; } = signingKey is null || signingKey.KeyId is not null
        ? signingKey
        : throw new ArgumentException("A client signing key needs a kid.", nameof(signingKey));

    public bool IsConfidential => SigningKey is not null;

    /// <summary>Adds <c>client_id</c> and, for a confidential client, a fresh client assertion for <paramref name="issuer"/>.</summary>
    public void AddTo(List<KeyValuePair<string, string>> form, string issuer, TimeProvider time)
    {
        form.Add(new("client_id", ClientId));
        if (SigningKey is not { } key) return;
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        var assertion = CompactJws.Sign(
            new JsonObject { ["kid"] = key.KeyId, ["typ"] = "JWT" },
            new JsonObject
            {
                ["iss"] = ClientId,
                ["sub"] = ClientId,
                ["aud"] = issuer,
                ["jti"] = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(16)),
                ["iat"] = now,
                ["exp"] = now + 60,
            },
            key);
        form.Add(new("client_assertion_type", AssertionType));
        form.Add(new("client_assertion", assertion));
    }

    public override string ToString() => $"OAuthClientIdentity {{ ClientId = {ClientId}, Confidential = {IsConfidential} }}";
}
