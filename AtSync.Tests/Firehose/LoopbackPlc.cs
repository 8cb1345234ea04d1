using System.Collections.Concurrent;
using System.Text.Json;
using AtSync.AtProto.Crypto;
using AtSync.Tests.AtProto;
using Microsoft.AspNetCore.Http;

namespace AtSync.Tests.Firehose;

/// <summary>
/// A PLC directory on 127.0.0.1 (real Kestrel) serving DID documents: every <c>did:plc</c> gets a document whose
/// <c>#atproto</c> verification method (Multikey, publicKeyMultibase) is <see cref="DefaultKey"/>, unless
/// <see cref="Keys"/> names another key for it; DIDs in <see cref="Missing"/> answer 404. <see cref="Handles"/> adds
/// <c>alsoKnownAs: ["at://handle"]</c>, <see cref="LabelKeys"/> an <c>#atproto_label</c> method.
/// </summary>
public sealed class LoopbackPlc : IAsyncDisposable
{
    private readonly LoopbackHttpServer _server;

    private LoopbackPlc(LoopbackHttpServer server, PublicKey defaultKey)
    {
        _server = server;
        DefaultKey = defaultKey;
        server.Handler = AnswerAsync;
    }

    public Uri BaseUri => _server.BaseUri;

    public PublicKey DefaultKey { get; }

    public ConcurrentDictionary<string, PublicKey> Keys { get; } = new(StringComparer.Ordinal);

    public ConcurrentDictionary<string, string> Handles { get; } = new(StringComparer.Ordinal);

    /// <summary>Labelers' <c>#atproto_label</c> keys, added to their documents beside <c>#atproto</c>.</summary>
    public ConcurrentDictionary<string, PublicKey> LabelKeys { get; } = new(StringComparer.Ordinal);

    public ConcurrentDictionary<string, bool> Missing { get; } = new(StringComparer.Ordinal);

    /// <summary>Adds an <c>#atproto_pds</c> service (<c>AtprotoPersonalDataServer</c>) with this endpoint to the DID's document.</summary>
    public ConcurrentDictionary<string, Uri> Pds { get; } = new(StringComparer.Ordinal);

    /// <summary>The PDS every other document names as its <c>#atproto_pds</c> service (none when null).</summary>
    public Uri? DefaultPds { get; set; }

    /// <summary>DIDs whose lookups answer 503 (their key unavailable, as behind a failing host).</summary>
    public ConcurrentDictionary<string, bool> Unavailable { get; } = new(StringComparer.Ordinal);

    /// <summary>While true, every request answers 503 (a directory outage).</summary>
    public volatile bool Down;

    /// <summary>The DIDs whose documents were asked for, in order.</summary>
    public IReadOnlyList<string> Requested => [.. _server.Requests.Select(r => Uri.UnescapeDataString(r.Path.TrimStart('/')))];

    public static async Task<LoopbackPlc> StartAsync(PublicKey defaultKey) => new(await LoopbackHttpServer.StartAsync(), defaultKey);

    private async Task AnswerAsync(HttpContext context, RecordedRequest request)
    {
        var did = Uri.UnescapeDataString(request.Path.TrimStart('/'));
        if (Down || Unavailable.ContainsKey(did))
        {
            context.Response.StatusCode = 503;
            return;
        }
        if (!did.StartsWith("did:plc:", StringComparison.Ordinal) || Missing.ContainsKey(did))
        {
            context.Response.StatusCode = 404;
            return;
        }
        var key = Keys.TryGetValue(did, out var specific) ? specific : DefaultKey;
        var methods = new List<object> { new { id = did + "#atproto", type = "Multikey", controller = did, publicKeyMultibase = key.ToMultikey() } };
        if (LabelKeys.TryGetValue(did, out var labelKey))
        {
            methods.Add(new { id = did + "#atproto_label", type = "Multikey", controller = did, publicKeyMultibase = labelKey.ToMultikey() });
        }
        var document = new Dictionary<string, object> { ["id"] = did, ["verificationMethod"] = methods };
        if (Handles.TryGetValue(did, out var handle)) document["alsoKnownAs"] = new[] { "at://" + handle };
        if (Pds.TryGetValue(did, out var pds) || (pds = DefaultPds) is not null)
        {
            document["service"] = new[] { new { id = "#atproto_pds", type = "AtprotoPersonalDataServer", serviceEndpoint = pds.GetLeftPart(UriPartial.Authority) } };
        }
        await LoopbackHttpServer.Json(context, 200, JsonSerializer.Serialize(document));
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
