using System.Text.Json;
using AtSync.AtProto.Syntax;

namespace AtSync.Firehose.Import;

/// <summary>
/// <c>com.atproto.sync.listReposByCollection</c> on a relay: every DID it lists for a collection, page by page
/// (<see cref="PageSize"/> a page, the relay's <c>cursor</c> followed until it gives none). Bounded: each page's body
/// (<see cref="MaxPageBytes"/>), the pages (<see cref="MaxPages"/>), each request's time; entries that are not DIDs
/// are skipped, a cursor that does not move ends the listing.
/// </summary>
public sealed class RelayRepoListing(HttpClient http)
{
    public const int PageSize = 1000;
    public const int MaxPages = 10_000;
    public const int MaxPageBytes = 4 * 1024 * 1024;
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(60);

    /// <summary>The DIDs listed for <paramref name="collection"/>, in the relay's order, each once.</summary>
    public async IAsyncEnumerable<string> ListAsync(Uri relay, string collection, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(relay);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        string? cursor = null;
        for (var page = 0; page < MaxPages; page++)
        {
            var query = $"collection={Uri.EscapeDataString(collection)}&limit={PageSize}" + (cursor is null ? "" : $"&cursor={Uri.EscapeDataString(cursor)}");
            var url = new Uri(relay, $"/xrpc/com.atproto.sync.listReposByCollection?{query}");
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(RequestTimeout);
            using var response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            if (!response.IsSuccessStatusCode) throw new RelayListingException($"the relay answered listReposByCollection with HTTP {(int)response.StatusCode}");
            await using var body = await response.Content.ReadAsStreamAsync(timeout.Token);
            var bytes = await BoundedBody.ReadAsync(body, response.Content.Headers.ContentLength, MaxPageBytes, timeout.Token)
                ?? throw new RelayListingException($"a listReposByCollection page is larger than {MaxPageBytes} bytes");
            var (dids, next) = Parse(bytes);
            foreach (var did in dids)
            {
                if (seen.Add(did)) yield return did;
            }
            if (next is null || next == cursor || dids.Count == 0) yield break;
            cursor = next;
        }
    }

    private static (List<string> Dids, string? Cursor) Parse(byte[] bytes)
    {
        try
        {
            using var document = JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = 8 });
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("repos", out var repos) || repos.ValueKind != JsonValueKind.Array)
            {
                throw new RelayListingException("a listReposByCollection page has no 'repos' array");
            }
            var dids = new List<string>();
            foreach (var repo in repos.EnumerateArray())
            {
                if (repo.ValueKind == JsonValueKind.Object && repo.TryGetProperty("did", out var did) && did.ValueKind == JsonValueKind.String
                    && Did.TryParse(did.GetString(), out var parsed))
                {
                    dids.Add(parsed.Value);
                }
            }
            var cursor = root.TryGetProperty("cursor", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
            return (dids, string.IsNullOrEmpty(cursor) ? null : cursor);
        }
        catch (JsonException)
        {
            throw new RelayListingException("a listReposByCollection page is not JSON");
        }
    }
}

/// <summary>The relay's listing could not be read (the message says why, without the relay's own text).</summary>
public sealed class RelayListingException(string message) : Exception(message);
