using System.Collections.Concurrent;
using System.Text.Json;
using AtSync.AtProto.Syntax;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AtSync.Testing.Repositories;

/// <summary>
/// A PDS (and relay listing) on Kestrel at 127.0.0.1:0 speaking the sync XRPC queries: <c>com.atproto.sync.getRepo</c>
/// serves each hosted repository's CAR (<c>application/vnd.ipld.car</c>; a missing or malformed <c>did</c> is 400
/// <c>InvalidRequest</c>, an unknown one 400 <c>RepoNotFound</c>), and <c>com.atproto.sync.listReposByCollection</c>
/// pages through the hosted DIDs (sorted; <c>collection</c> required and an NSID, <c>limit</c> 1–2000, default 500,
/// <c>cursor</c> the last DID of the previous page). Tests replace a repository's bytes (tampered, truncated) through
/// <see cref="Repos"/> and can hold getRepo answers behind <see cref="Gate"/>.
/// </summary>
public sealed class LoopbackRepoHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<string> _requests = new();

    private LoopbackRepoHost(WebApplication app)
    {
        _app = app;
        BaseUri = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
    }

    public Uri BaseUri { get; }

    /// <summary>The CAR served for each DID (a function, so a test can serve the repository's current state).</summary>
    public ConcurrentDictionary<string, Func<byte[]>> Repos { get; } = new(StringComparer.Ordinal);

    /// <summary>The collection each hosted DID is listed under by listReposByCollection (default: every collection).</summary>
    public ConcurrentDictionary<string, string> ListedCollection { get; } = new(StringComparer.Ordinal);

    /// <summary>When set, getRepo answers wait for it (to act while an import is fetching).</summary>
    public TaskCompletionSource? Gate { get; set; }

    /// <summary>Signalled when a getRepo request arrives.</summary>
    public TaskCompletionSource RepoRequested { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Each request as <c>method path?query</c>, in order.</summary>
    public IReadOnlyList<string> Requests => [.. _requests];

    public int GetRepoCount => _requests.Count(r => r.Contains("getRepo", StringComparison.Ordinal));

    public static async Task<LoopbackRepoHost> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        LoopbackRepoHost? self = null;
        app.MapGet("/xrpc/com.atproto.sync.getRepo", context => self!.GetRepoAsync(context));
        app.MapGet("/xrpc/com.atproto.sync.listReposByCollection", context => self!.ListAsync(context));
        await app.StartAsync();
        self = new LoopbackRepoHost(app);
        return self;
    }

    public void ResetRepoRequested() => RepoRequested = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    private async Task GetRepoAsync(HttpContext context)
    {
        _requests.Enqueue($"GET {context.Request.Path}{context.Request.QueryString}");
        RepoRequested.TrySetResult();
        var did = context.Request.Query["did"].FirstOrDefault();
        if (!Did.TryParse(did, out _))
        {
            await ErrorAsync(context, "InvalidRequest", "did must be a DID");
            return;
        }
        if (!Repos.TryGetValue(did!, out var car))
        {
            await ErrorAsync(context, "RepoNotFound", $"Could not find repo for DID: {did}");
            return;
        }
        if (Gate is { } gate) await gate.Task.WaitAsync(context.RequestAborted);
        var bytes = car();
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/vnd.ipld.car";
        context.Response.ContentLength = bytes.Length;
        await context.Response.Body.WriteAsync(bytes, context.RequestAborted);
    }

    private async Task ListAsync(HttpContext context)
    {
        _requests.Enqueue($"GET {context.Request.Path}{context.Request.QueryString}");
        var collection = context.Request.Query["collection"].FirstOrDefault();
        if (!Nsid.TryParse(collection, out _))
        {
            await ErrorAsync(context, "InvalidRequest", "collection must be an NSID");
            return;
        }
        var limitText = context.Request.Query["limit"].FirstOrDefault();
        var limit = 500;
        if (limitText is not null && (!int.TryParse(limitText, out limit) || limit < 1 || limit > 2000))
        {
            await ErrorAsync(context, "InvalidRequest", "limit must be 1 to 2000");
            return;
        }
        var cursor = context.Request.Query["cursor"].FirstOrDefault();
        var dids = Repos.Keys
            .Where(d => !ListedCollection.TryGetValue(d, out var listed) || listed == collection)
            .Where(d => cursor is null || string.CompareOrdinal(d, cursor) > 0)
            .Order(StringComparer.Ordinal)
            .Take(limit + 1)
            .ToList();
        var page = dids.Take(limit).ToList();
        var body = new Dictionary<string, object> { ["repos"] = page.Select(d => new { did = d }).ToList() };
        if (dids.Count > limit) body["cursor"] = page[^1];
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(JsonSerializer.Serialize(body));
    }

    private static async Task ErrorAsync(HttpContext context, string error, string message)
    {
        context.Response.StatusCode = 400;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(JsonSerializer.Serialize(new { error, message }));
    }

    public async ValueTask DisposeAsync()
    {
        Gate?.TrySetCanceled();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
