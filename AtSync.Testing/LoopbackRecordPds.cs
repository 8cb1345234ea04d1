using System.Collections.Concurrent;
using AtSync.AtProto.Syntax;
using AtSync.Testing.Synthetic;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AtSync.Testing;

/// <summary>How the <see cref="LoopbackRecordPds"/> misanswers <c>getRecord</c> for one record (or every record of one DID).</summary>
public enum RecordFault
{
    /// <summary>503, as a PDS that is down.</summary>
    Down,

    /// <summary>The record block's last byte flipped (the CAR no longer hashes).</summary>
    TamperedBlock,

    /// <summary>The proof of another record of the same repository.</summary>
    OtherRecord,

    /// <summary>400 <c>RecordNotFound</c>, whatever the repository holds.</summary>
    NotFound,
}

/// <summary>
/// Authors' PDS on Kestrel at 127.0.0.1:0 answering <c>com.atproto.sync.getRecord</c> from <see cref="ForumRepositories"/>
/// as the reference PDS does: <c>application/vnd.ipld.car</c> with the signed head, the MST path and the record (a proof
/// of absence when the key is not there), 400 <c>InvalidRequest</c> for a malformed query, 400 <c>RepoNotFound</c> for an
/// unknown DID; plus injected <see cref="RecordFault"/>s. Records every request.
/// </summary>
public sealed class LoopbackRecordPds : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ForumRepositories _repos;
    private readonly ConcurrentQueue<string> _requests = new();

    private LoopbackRecordPds(WebApplication app, ForumRepositories repos)
    {
        _app = app;
        _repos = repos;
        BaseUri = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
    }

    public Uri BaseUri { get; }

    /// <summary>Faults by AT-URI, or by DID for every record of that repository.</summary>
    public ConcurrentDictionary<string, RecordFault> Faults { get; } = new(StringComparer.Ordinal);

    /// <summary>Answer a missing record with a proof of its absence (the CAR) instead of 400 <c>RecordNotFound</c>.</summary>
    public bool ProveAbsence { get; set; }

    /// <summary>Each getRecord's <c>did/collection/rkey</c>, in order.</summary>
    public IReadOnlyList<string> Requests => [.. _requests];

    public static async Task<LoopbackRecordPds> StartAsync(ForumRepositories repos)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        LoopbackRecordPds? self = null;
        app.MapGet("/xrpc/com.atproto.sync.getRecord", context => self!.GetRecordAsync(context));
        await app.StartAsync();
        self = new LoopbackRecordPds(app, repos);
        return self;
    }

    private async Task GetRecordAsync(HttpContext context)
    {
        var did = context.Request.Query["did"].ToString();
        var collection = context.Request.Query["collection"].ToString();
        var rkey = context.Request.Query["rkey"].ToString();
        _requests.Enqueue($"{did}/{collection}/{rkey}");
        if (!Did.TryParse(did, out _) || !Nsid.IsValid(collection) || !RecordKey.IsValid(rkey))
        {
            await Error(context, 400, "InvalidRequest");
            return;
        }
        var uri = $"at://{did}/{collection}/{rkey}";
        if (Faults.TryGetValue(uri, out var fault) || Faults.TryGetValue(did, out fault))
        {
            switch (fault)
            {
                case RecordFault.Down:
                    await Error(context, 503, "InternalServerError");
                    return;
                case RecordFault.NotFound:
                    await Error(context, 400, "RecordNotFound");
                    return;
                case RecordFault.OtherRecord:
                    await Car(context, _repos.RecordCarOfAnother(did, $"{collection}/{rkey}")!);
                    return;
                case RecordFault.TamperedBlock:
                    var car = _repos.RecordCar(did, collection, rkey)!;
                    car[^1] ^= 0x01;
                    await Car(context, car);
                    return;
            }
        }
        if (_repos.RecordCar(did, collection, rkey) is not { } proof)
        {
            await Error(context, 400, "RepoNotFound");
            return;
        }
        if (_repos.CidOf(did, $"{collection}/{rkey}") is null && !ProveAbsence)
        {
            // The reference PDS answers RecordNotFound for a missing record; a proof of absence is also a valid answer.
            await Error(context, 400, "RecordNotFound");
            return;
        }
        await Car(context, proof);
    }

    private static Task Car(HttpContext context, byte[] car)
    {
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/vnd.ipld.car";
        context.Response.ContentLength = car.Length;
        return context.Response.Body.WriteAsync(car).AsTask();
    }

    private static async Task Error(HttpContext context, int status, string error)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync($"{{\"error\":\"{error}\",\"message\":\"{error}\"}}");
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        await _app.StopAsync(timeout.Token);
        await _app.DisposeAsync();
    }
}
