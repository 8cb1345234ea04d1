using AtSync.AtProto.OAuth;
using AtSync.Core.Forum;

namespace AtSync.Core.Settings;

/// <summary>
/// AtSync as one AT OAuth client, the same for the linking service (which signs users in) and the QueueWorker (which
/// refreshes their sessions): its URLs under <c>LINKING_PUBLIC_URL</c>, its <c>client_id</c> (the metadata document's
/// URL) and, with <c>OAUTH_CLIENT_KEY</c>, its <c>private_key_jwt</c> key (kid = the key's thumbprint). Without a
/// key and on a loopback http URL it is an AT OAuth localhost development client (no metadata document needed).
/// </summary>
public sealed class OAuthClientConfiguration : IDisposable
{
    public const string PublicUrlName = "LINKING_PUBLIC_URL";
    public const string ClientKeyName = "OAUTH_CLIENT_KEY";

    /// <summary>What forum members' sessions write.</summary>
    public static readonly IReadOnlyList<string> Collections = [ForumLexicon.Post];

    private OAuthClientConfiguration(Uri baseUrl, DpopKey? signingKey)
    {
        BaseUrl = baseUrl;
        RedirectUri = new Uri(baseUrl, "oauth/callback");
        MetadataUrl = new Uri(baseUrl, "oauth/client-metadata.json");
        JwksUrl = new Uri(baseUrl, "oauth/jwks.json");
        // Every scope this client may ask for; each sign-in asks for the narrowest its server offers.
        MetadataScope = string.Join(' ', new[] { OAuthScopes.Atproto }.Concat(Collections.Select(c => "repo:" + c)).Append(OAuthScopes.TransitionGeneric));
        SigningKey = signingKey;
        IsLoopbackDevelopmentClient = signingKey is null && baseUrl.Scheme == Uri.UriSchemeHttp;
        Identity = new OAuthClientIdentity(
            IsLoopbackDevelopmentClient ? ClientMetadata.LoopbackClientId(RedirectUri, MetadataScope) : MetadataUrl.ToString(), signingKey);
    }

    public Uri BaseUrl { get; }
    public Uri RedirectUri { get; }
    public Uri MetadataUrl { get; }
    public Uri JwksUrl { get; }
    public string MetadataScope { get; }
    public DpopKey? SigningKey { get; }
    public bool IsLoopbackDevelopmentClient { get; }
    public OAuthClientIdentity Identity { get; }

    /// <summary>From the two settings (already validated); <paramref name="clientKey"/> empty for a public client.</summary>
    public static OAuthClientConfiguration Create(string publicUrl, string? clientKey)
    {
        DpopKey? key = null;
        if (!string.IsNullOrEmpty(clientKey))
        {
            using var probe = DpopKey.ImportPrivateKey(clientKey);
            key = DpopKey.ImportPrivateKey(clientKey, keyId: probe.Thumbprint);
        }
        return new OAuthClientConfiguration(new Uri(publicUrl), key);
    }

    /// <summary>Why the settings cannot make a client (one reason per setting, never a value); empty when they can.</summary>
    public static IEnumerable<string> Problems(string? publicUrl, string? clientKey)
    {
        if (!Uri.TryCreate(publicUrl, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https")
            || !publicUrl!.EndsWith('/') || !string.IsNullOrEmpty(url.Query) || !string.IsNullOrEmpty(url.Fragment))
        {
            yield return $"{PublicUrlName} must be an absolute http(s) URL ending in '/' without query";
        }
        else if (url.Scheme == "http" && !OAuthUrls.IsLoopback(url))
        {
            yield return $"{PublicUrlName} must be https (plain http only on a loopback host, for development)";
        }
        if (!string.IsNullOrEmpty(clientKey))
        {
            string? problem = null;
            try
            {
                using var key = DpopKey.ImportPrivateKey(clientKey);
            }
            catch (ArgumentException)
            {
                problem = $"{ClientKeyName} is not a base64url PKCS#8 P-256 private key";
            }
            if (problem is not null) yield return problem;
        }
    }

    public void Dispose() => SigningKey?.Dispose();
}
