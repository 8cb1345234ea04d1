using AtSync.Core.Forum;

namespace AtSync.Firehose.Ingest.Jetstream;

/// <summary>The <c>/subscribe</c> URL the Jetstream source connects to (the cursor is added per connection).</summary>
public static class JetstreamUrl
{
    public const string SubscribePath = "/subscribe";

    /// <summary>Jetstream filters server-side by NSID prefix: only the forum's collections (plus identity and account events) are sent.</summary>
    public static readonly string WantedCollections = ForumLexicon.CollectionPrefix + "*";

    public static Uri Subscribe(string configured, bool compress)
    {
        var builder = new UriBuilder(configured);
        builder.Scheme = builder.Scheme switch
        {
            "http" => "ws",
            "https" => "wss",
            _ => builder.Scheme,
        };
        if (builder.Uri.IsDefaultPort) builder.Port = -1;
        if (builder.Path is "" or "/") builder.Path = SubscribePath;
        var query = builder.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Where(p => !p.StartsWith("wantedCollections=", StringComparison.Ordinal) && !p.StartsWith("compress=", StringComparison.Ordinal))
            .Append("wantedCollections=" + Uri.EscapeDataString(WantedCollections));
        if (compress) query = query.Append("compress=true");
        builder.Query = string.Join('&', query);
        return builder.Uri;
    }
}
