using AtSync.AtProto.OAuth;
using AtSync.Core.Settings;
using Microsoft.Extensions.Options;

namespace AtSync.Linking;

/// <summary>This service as the OAuth client (<see cref="OAuthClientConfiguration"/>) and the paths of its pages.</summary>
public sealed class LinkingClient(IOptions<LinkingOptions> options) : IDisposable
{
    private readonly OAuthClientConfiguration _client = OAuthClientConfiguration.Create(options.Value.PublicUrl, options.Value.ClientKey);

    public static IReadOnlyList<string> Collections => OAuthClientConfiguration.Collections;

    public Uri BaseUrl => _client.BaseUrl;
    public Uri RedirectUri => _client.RedirectUri;
    public DpopKey? SigningKey => _client.SigningKey;
    public OAuthClientIdentity Identity => _client.Identity;

    /// <summary>A path under the public URL, e.g. <c>Path("link")</c> = <c>/atproto/link</c>.</summary>
    public string Path(string relative) => new Uri(BaseUrl, relative).AbsolutePath;

    public System.Text.Json.Nodes.JsonObject MetadataDocument() =>
        ClientMetadata.Document(Identity.ClientId, options.Value.ClientName, new Uri(BaseUrl.GetLeftPart(UriPartial.Authority)), RedirectUri,
            _client.MetadataScope, SigningKey is null ? null : _client.JwksUrl);

    public void Dispose() => _client.Dispose();
}
