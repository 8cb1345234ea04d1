using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using AtSync.Tests.AtProto;
using AtSync.Tests.QueueWorker;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AtSync.Tests.OAuth;

/// <summary>A write the OAuth PDS accepted, with the checks its DPoP proof passed.</summary>
public sealed record OAuthWrite(string Nsid, string Did, string Collection, string Rkey, string Jkt, string RecordJson);

/// <summary>
/// A PDS on 127.0.0.1 whose authorization server is a <see cref="LoopbackAuthServer"/>, plus a PLC directory and a
/// handle resolver: the AT network a linking user signs in through. The PDS serves
/// <c>/.well-known/oauth-protected-resource</c> and <c>com.atproto.identity.resolveHandle</c>, and takes
/// <c>createRecord</c>/<c>putRecord</c>/<c>deleteRecord</c> only with <c>Authorization: DPoP</c>: the proof must
/// verify (<see cref="DpopVerifier"/>, with <c>ath</c> and the PDS's own rotated nonces, demanded with 401
/// <c>use_dpop_nonce</c>), the token must be live at the authorization server, bound to the proof's key, and its
/// scope must allow the collection. Bearer tokens are refused.
/// </summary>
public sealed class LoopbackAtNetwork : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<OAuthWrite> _writes = new();
    private readonly ConcurrentDictionary<string, string> _records = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _refusals = new();

    private LoopbackAtNetwork(WebApplication app, LoopbackAuthServer auth, LoopbackHttpServer plc, TimeProvider time)
    {
        _app = app;
        Auth = auth;
        Plc = plc;
        Dpop = new DpopVerifier(time);
    }

    public LoopbackAuthServer Auth { get; }

    public LoopbackHttpServer Plc { get; }

    /// <summary>The PDS's own DPoP checks (its nonces are not the authorization server's).</summary>
    public DpopVerifier Dpop { get; }

    public Uri PdsUri { get; private set; } = null!;

    /// <summary>DID → handle of the accounts on this PDS.</summary>
    public ConcurrentDictionary<string, string> Handles { get; } = new(StringComparer.Ordinal);

    /// <summary>Handles that resolve (handle → DID); separate, so a test can make a handle point elsewhere.</summary>
    public ConcurrentDictionary<string, string> HandleToDid { get; } = new(StringComparer.Ordinal);

    public IReadOnlyList<OAuthWrite> Writes => [.. _writes];

    public IReadOnlyDictionary<string, string> Records => _records.ToDictionary(r => r.Key, r => r.Value, StringComparer.Ordinal);

    /// <summary>Why writes were refused (401/400 answers), in order.</summary>
    public IReadOnlyList<string> Refusals => [.. _refusals];

    public int NonceDemands => _refusals.Count(r => r == "use_dpop_nonce");

    public static async Task<LoopbackAtNetwork> StartAsync(TimeProvider? time = null)
    {
        time ??= TimeProvider.System;
        var auth = await LoopbackAuthServer.StartAsync(time);
        var plc = await LoopbackHttpServer.StartAsync();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxConcurrentConnections = 1000);
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var network = new LoopbackAtNetwork(app, auth, plc, time);
        app.Run(network.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        network.PdsUri = new Uri(address + "/");
        plc.Handler = network.PlcAsync;
        return network;
    }

    /// <summary>An account on this PDS: a did:plc with a DID document (handle, PDS) in the PLC directory, and its handle.</summary>
    public string AddAccount(string handle)
    {
        const string alphabet = "abcdefghijklmnopqrstuvwxyz234567";
        var did = "did:plc:" + new string([.. RandomNumberGenerator.GetBytes(24).Select(b => alphabet[b % 32])]);
        Handles[did] = handle;
        HandleToDid[handle] = did;
        Auth.Accounts[did] = handle;
        return did;
    }

    private async Task PlcAsync(HttpContext ctx, RecordedRequest request)
    {
        var did = Uri.UnescapeDataString(request.Path.TrimStart('/'));
        if (!Handles.TryGetValue(did, out var handle))
        {
            await LoopbackHttpServer.Json(ctx, 404, """{"message":"DID not registered"}""");
            return;
        }
        var doc = new JsonObject
        {
            ["@context"] = new JsonArray("https://www.w3.org/ns/did/v1"),
            ["id"] = did,
            ["alsoKnownAs"] = new JsonArray("at://" + handle),
            ["verificationMethod"] = new JsonArray(),
            ["service"] = new JsonArray(new JsonObject
            {
                ["id"] = "#atproto_pds",
                ["type"] = "AtprotoPersonalDataServer",
                ["serviceEndpoint"] = PdsUri.GetLeftPart(UriPartial.Authority),
            }),
        };
        await LoopbackHttpServer.Json(ctx, 200, doc.ToJsonString());
    }

    private async Task HandleAsync(HttpContext ctx)
    {
        var path = ctx.Request.Path.Value ?? "";
        if (path == "/.well-known/oauth-protected-resource")
        {
            await Json(ctx, 200, new JsonObject
            {
                ["resource"] = PdsUri.GetLeftPart(UriPartial.Authority),
                ["authorization_servers"] = new JsonArray(Auth.Issuer),
                ["bearer_methods_supported"] = new JsonArray("header"),
            });
            return;
        }
        if (path == "/xrpc/com.atproto.identity.resolveHandle")
        {
            var handle = ctx.Request.Query["handle"].ToString();
            if (HandleToDid.TryGetValue(handle, out var did)) await Json(ctx, 200, new JsonObject { ["did"] = did });
            else await Json(ctx, 400, new JsonObject { ["error"] = "HandleNotFound", ["message"] = "Unable to resolve handle" });
            return;
        }
        var nsid = path.StartsWith("/xrpc/", StringComparison.Ordinal) ? path[6..] : "";
        if (nsid is not ("com.atproto.repo.createRecord" or "com.atproto.repo.putRecord" or "com.atproto.repo.deleteRecord"))
        {
            await Json(ctx, 501, new JsonObject { ["error"] = "MethodNotImplemented", ["message"] = "not here" });
            return;
        }
        await WriteAsync(ctx, nsid);
    }

    private async Task WriteAsync(HttpContext ctx, string nsid)
    {
        var authorization = ctx.Request.Headers.Authorization.ToString();
        if (!authorization.StartsWith("DPoP ", StringComparison.Ordinal))
        {
            await Refuse(ctx, 401, "InvalidToken", "DPoP-bound access token required", "invalid_token");
            return;
        }
        var token = authorization[5..];
        var url = new Uri(PdsUri.GetLeftPart(UriPartial.Authority) + ctx.Request.Path);
        var check = await Dpop.CheckAsync(ctx.Request.Headers["DPoP"].ToString(), ctx.Request.Method, url, token);
        if (check.NeedsNonce)
        {
            ctx.Response.Headers["DPoP-Nonce"] = Dpop.CurrentNonce;
            await Refuse(ctx, 401, "use_dpop_nonce", "Resource server requires nonce in DPoP proof", "use_dpop_nonce");
            return;
        }
        ctx.Response.Headers["DPoP-Nonce"] = Dpop.CurrentNonce;
        if (!check.Ok)
        {
            await Refuse(ctx, 401, "InvalidToken", check.Error!, "invalid_dpop_proof");
            return;
        }
        var (access, error) = Auth.Introspect(token);
        if (access is null)
        {
            await Refuse(ctx, 401, error == "expired" ? "ExpiredToken" : "InvalidToken", "token " + error, "invalid_token");
            return;
        }
        if (access.Jkt != check.Thumbprint)
        {
            await Refuse(ctx, 401, "InvalidToken", "token is bound to another key", "invalid_token");
            return;
        }
        using var body = await JsonDocument.ParseAsync(ctx.Request.Body);
        var root = body.RootElement;
        var repo = root.GetProperty("repo").GetString();
        var collection = root.GetProperty("collection").GetString()!;
        var rkey = root.TryGetProperty("rkey", out var k) ? k.GetString() : null;
        if (repo != access.Did || string.IsNullOrEmpty(rkey))
        {
            await Refuse(ctx, 400, "InvalidRequest", "repo must be the token's DID; rkey required", null);
            return;
        }
        if (!AtSync.AtProto.OAuth.OAuthScopes.AllowsWrites(access.Scope, collection))
        {
            await Refuse(ctx, 403, "InsufficientScope", "scope does not allow " + collection, null);
            return;
        }
        var uri = $"at://{repo}/{collection}/{rkey}";
        var recordJson = root.TryGetProperty("record", out var r) ? r.GetRawText() : "";
        if (nsid == "com.atproto.repo.createRecord" && !_records.TryAdd(uri, recordJson))
        {
            await Refuse(ctx, 400, "InvalidRequest", "Record already exists", null);
            return;
        }
        if (nsid == "com.atproto.repo.putRecord") _records[uri] = recordJson;
        if (nsid == "com.atproto.repo.deleteRecord") _records.TryRemove(uri, out _);
        _writes.Enqueue(new OAuthWrite(nsid, access.Did, collection, rkey, check.Thumbprint!, recordJson));
        await Json(ctx, 200, nsid == "com.atproto.repo.deleteRecord"
            ? new JsonObject()
            : new JsonObject { ["uri"] = uri, ["cid"] = LoopbackPds.CidFor(recordJson), ["validationStatus"] = "unknown" });
    }

    private async Task Refuse(HttpContext ctx, int status, string error, string message, string? wwwError)
    {
        _refusals.Enqueue(error);
        if (wwwError is not null) ctx.Response.Headers.WWWAuthenticate = $"DPoP error=\"{wwwError}\", error_description=\"{message}\"";
        await Json(ctx, status, new JsonObject { ["error"] = error, ["message"] = message });
    }

    private static async Task Json(HttpContext ctx, int status, JsonObject body)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json";
        await ctx.Response.WriteAsync(body.ToJsonString());
    }

    public static string NewTid() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(8));

    public async ValueTask DisposeAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _app.StopAsync(cts.Token);
        await _app.DisposeAsync();
        await Plc.DisposeAsync();
        await Auth.DisposeAsync();
    }
}
