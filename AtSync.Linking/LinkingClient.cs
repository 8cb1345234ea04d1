using AtSync.AtProto.OAuth;
using Microsoft.Extensions.Options;

namespace AtSync.Linking;

/// <summary>
/// This service as an OAuth client: its URLs (all under <see cref="LinkingOptions.PublicUrl"/>), its <c>client_id</c>
/// and, when <c>OAUTH_CLIENT_KEY</c> is set, its <c>private_key_jwt</c> key (kid = the key's thumbprint). Without a
/// key and on a loopback http URL it is an AT OAuth localhost development client (no metadata document needed).
/// </summary>
public sealed class LinkingClient : IDisposable
{
    /// <summary>What forum members' sessions write.</summary>
    public static readonly IReadOnlyList<string> Collections = ["net.vza.forum.post"];

    public LinkingClient(IOptions<LinkingOptions> options)
    {
        var o = options.Value;
        BaseUrl = new Uri(o.PublicUrl);
        RedirectUri = new Uri(BaseUrl, "oauth/callback");
        MetadataUrl = new Uri(BaseUrl, "oauth/client-metadata.json");
        JwksUrl = new Uri(BaseUrl, "oauth/jwks.json");
        ClientName = o.ClientName;
        // Every scope this client may ask for; each sign-in asks for the narrowest its server offers.
        MetadataScope = string.Join(' ', new[] { OAuthScopes.Atproto }.Concat(Collections.Select(c => "repo:" + c)).Append(OAuthScopes.TransitionGeneric));
        if (o.ClientKey.Length > 0)
        {
            var probe = DpopKey.ImportPrivateKey(o.ClientKey);
            SigningKey = DpopKey.ImportPrivateKey(o.ClientKey, keyId: probe.Thumbprint);
            probe.Dispose();
        }
        IsLoopbackDevelopmentClient = SigningKey is null && BaseUrl.Scheme == Uri.UriSchemeHttp;
        Identity = new OAuthClientIdentity(
            IsLoopbackDevelopmentClient ? ClientMetadata.LoopbackClientId(RedirectUri, MetadataScope) : MetadataUrl.ToString(),
            SigningKey);
    }

    public Uri BaseUrl { get; }
    public Uri RedirectUri { get; }
    public Uri MetadataUrl { get; }
    public Uri JwksUrl { get; }
    public string ClientName { get; }
    public string MetadataScope { get; }
    public DpopKey? SigningKey { get; }
    public bool IsLoopbackDevelopmentClient { get; }
    public OAuthClientIdentity Identity { get; }

    /// <summary>A path under the public URL, e.g. <c>Path("link")</c> = <c>/atproto/link</c>.</summary>
    public string Path(string relative) => new Uri(BaseUrl, relative).AbsolutePath;

    public System.Text.Json.Nodes.JsonObject MetadataDocument() =>
        ClientMetadata.Document(Identity.ClientId, ClientName, new Uri(BaseUrl.GetLeftPart(UriPartial.Authority)), RedirectUri, MetadataScope,
            SigningKey is null ? null : JwksUrl);

    public void Dispose() => SigningKey?.Dispose();
}
