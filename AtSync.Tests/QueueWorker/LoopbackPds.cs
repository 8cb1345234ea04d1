using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AtSync.Tests.QueueWorker;

/// <summary>A fault the loopback PDS injects into matching requests.</summary>
public abstract record PdsFault
{
    /// <summary>
    /// Answers with an XRPC error (and headers, e.g. Retry-After / RateLimit-*), without applying the call.
    /// <c>{bearer}</c> in the message is replaced by the request's bearer token (a PDS that echoes credentials).
    /// </summary>
    public sealed record Error(int Status, string Name, string Message = "injected", params (string Header, string Value)[] Headers) : PdsFault;

    /// <summary>Waits this long (real time), then handles the call normally.</summary>
    public sealed record Slow(TimeSpan Delay) : PdsFault;

    /// <summary>Drops the connection without an answer; <paramref name="AfterApplying"/> applies the write first.</summary>
    public sealed record Drop(bool AfterApplying) : PdsFault;
}

/// <summary>One call as the loopback PDS saw it.</summary>
public sealed record PdsCall(string Nsid, string? Did, string? Rkey, int Status, bool Applied);

/// <summary>
/// A PDS on 127.0.0.1 (Kestrel, ephemeral port) for the queue worker's tests: <c>com.atproto.repo.createRecord</c>,
/// <c>putRecord</c>, <c>deleteRecord</c>, <c>com.atproto.server.createSession</c> (accounts given by <see cref="AddAccount"/>)
/// and <c>com.atproto.server.refreshSession</c>, with repositories in memory,
/// JWT-shaped access/refresh tokens it issues and checks (expiry by the given <see cref="TimeProvider"/>; refresh
/// tokens are single-use), injectable faults, and a log of every call (to assert, e.g., that no record was created twice).
/// </summary>
public sealed class LoopbackPds : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, (string Did, DateTimeOffset Expires)> _access = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _refresh = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (string Did, string Handle, string Password)> _accounts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (string Json, string Cid)> _records = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _creates = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<PdsCall> _calls = new();
    private readonly ConcurrentQueue<string> _issued = new();
    private readonly ConcurrentQueue<(string? Nsid, PdsFault Fault)> _faults = new();
    private readonly Lock _writeLock = new();
    private int _duplicateCreateAttempts;
    private int _putsOverExisting;
    private string? _hangDid;
    private readonly TaskCompletionSource _hangStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private LoopbackPds(WebApplication app, TimeProvider time)
    {
        _app = app;
        _time = time;
    }

    public Uri BaseUri { get; private set; } = null!;

    /// <summary>How long issued access tokens live.</summary>
    public TimeSpan AccessLifetime { get; set; } = TimeSpan.FromHours(2);

    /// <summary>Whether every request is recorded in <see cref="Calls"/> (off for benchmarks).</summary>
    public bool RecordCalls { get; set; } = true;

    public IReadOnlyList<PdsCall> Calls => [.. _calls];

    /// <summary>Every access and refresh token this PDS ever issued (to assert that none is logged).</summary>
    public IReadOnlyList<string> IssuedTokens => [.. _issued];

    /// <summary>Records now in the repositories: AT-URI → record JSON.</summary>
    public IReadOnlyDictionary<string, string> Records => _records.ToDictionary(r => r.Key, r => r.Value.Json, StringComparer.Ordinal);

    public string? CidOf(string uri) => _records.TryGetValue(uri, out var r) ? r.Cid : null;

    /// <summary>Successful createRecord calls per AT-URI.</summary>
    public IReadOnlyDictionary<string, int> CreatesByUri => _creates.ToDictionary(c => c.Key, c => c.Value, StringComparer.Ordinal);

    /// <summary>putRecord calls that replaced a record already there.</summary>
    public int PutsOverExisting => Volatile.Read(ref _putsOverExisting);

    /// <summary>
    /// The next write for <paramref name="did"/> is applied and then never answered (until the client goes away):
    /// the worker that sent it is stuck holding its batch. The returned task completes when that write has arrived.
    /// </summary>
    public Task HangNextWriteOf(string did)
    {
        _hangDid = did;
        return _hangStarted.Task;
    }

    /// <summary>createRecord calls refused because the record already existed.</summary>
    public int DuplicateCreateAttempts => Volatile.Read(ref _duplicateCreateAttempts);

    public static async Task<LoopbackPds> StartAsync(TimeProvider? time = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxConcurrentConnections = 1000);
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var pds = new LoopbackPds(app, time ?? TimeProvider.System);
        app.Run(pds.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        pds.BaseUri = new Uri(address + "/");
        return pds;
    }

    /// <summary>Creates an account's session: returns its access and refresh tokens.</summary>
    public (string Access, string Refresh, DateTimeOffset Expires) CreateSession(string did, TimeSpan? accessLifetime = null)
    {
        var expires = _time.GetUtcNow() + (accessLifetime ?? AccessLifetime);
        var access = Jwt(did, expires, "access");
        var refresh = Jwt(did, _time.GetUtcNow() + TimeSpan.FromDays(60), "refresh");
        _access[access] = (did, expires);
        _refresh[refresh] = did;
        _issued.Enqueue(access);
        _issued.Enqueue(refresh);
        return (access, refresh, expires);
    }

    /// <summary>
    /// An account that can sign in with <c>com.atproto.server.createSession</c> (identifier: its DID or handle). Without
    /// any account the PDS answers createSession with 501 MethodNotImplemented (as a PDS without password sign-in).
    /// </summary>
    public void AddAccount(string did, string handle, string password) => _accounts[did] = (did, handle, password);

    /// <summary>Revokes every refresh token of a DID (the user signed out, or the PDS revoked the session).</summary>
    public void RevokeRefreshTokens(string did)
    {
        foreach (var (token, owner) in _refresh)
        {
            if (owner == did) _refresh.TryRemove(token, out _);
        }
    }

    /// <summary>Injects a fault into the next <paramref name="count"/> calls of <paramref name="nsid"/> (any method when null).</summary>
    public void InjectFault(PdsFault fault, string? nsid = null, int count = 1)
    {
        for (var i = 0; i < count; i++) _faults.Enqueue((nsid, fault));
    }

    public void ClearFaults() => _faults.Clear();

    /// <summary>Puts a record directly (test setup), as if written earlier.</summary>
    public string Seed(string did, string collection, string rkey, string json)
    {
        var uri = $"at://{did}/{collection}/{rkey}";
        _records[uri] = (json, CidFor(json));
        return uri;
    }

    private async Task HandleAsync(HttpContext ctx)
    {
        var path = ctx.Request.Path.Value ?? "";
        var nsid = path.StartsWith("/xrpc/", StringComparison.Ordinal) ? path["/xrpc/".Length..] : path;
        var fault = TakeFault(nsid);
        if (fault is PdsFault.Slow slow)
        {
            await Task.Delay(slow.Delay, ctx.RequestAborted);
            fault = null;
        }
        if (fault is PdsFault.Error error)
        {
            Record(nsid, null, null, error.Status, false);
            var echoed = error.Message.Replace("{bearer}", ctx.Request.Headers.Authorization.ToString().Replace("Bearer ", "", StringComparison.Ordinal), StringComparison.Ordinal);
            await ErrorAsync(ctx, error.Status, error.Name, echoed, error.Headers);
            return;
        }
        if (fault is PdsFault.Drop { AfterApplying: false })
        {
            Record(nsid, null, null, 0, false);
            ctx.Abort();
            return;
        }

        var bearer = ctx.Request.Headers.Authorization.ToString();
        var token = bearer.StartsWith("Bearer ", StringComparison.Ordinal) ? bearer["Bearer ".Length..] : "";
        if (nsid == "com.atproto.server.refreshSession")
        {
            await RefreshAsync(ctx, token, fault is PdsFault.Drop);
            return;
        }
        if (nsid == "com.atproto.server.createSession")
        {
            await CreateSessionAsync(ctx);
            return;
        }
        if (nsid is not ("com.atproto.repo.createRecord" or "com.atproto.repo.putRecord" or "com.atproto.repo.deleteRecord"))
        {
            await ErrorAsync(ctx, 501, "MethodNotImplemented", $"{nsid} is not implemented here");
            return;
        }
        if (!_access.TryGetValue(token, out var session))
        {
            Record(nsid, null, null, 400, false);
            await ErrorAsync(ctx, 400, "InvalidToken", "Token could not be verified");
            return;
        }
        if (session.Expires <= _time.GetUtcNow())
        {
            Record(nsid, session.Did, null, 400, false);
            await ErrorAsync(ctx, 400, "ExpiredToken", "Token has expired");
            return;
        }

        JsonDocument body;
        try
        {
            body = await JsonDocument.ParseAsync(ctx.Request.Body, default, ctx.RequestAborted);
        }
        catch (JsonException)
        {
            await ErrorAsync(ctx, 400, "InvalidRequest", "body is not JSON");
            return;
        }
        using (body)
        {
            var root = body.RootElement;
            var repo = root.TryGetProperty("repo", out var r) ? r.GetString() : null;
            var collection = root.TryGetProperty("collection", out var c) ? c.GetString() : null;
            var rkey = root.TryGetProperty("rkey", out var k) ? k.GetString() : null;
            if (repo != session.Did || collection is null || string.IsNullOrEmpty(rkey))
            {
                Record(nsid, session.Did, rkey, 400, false);
                await ErrorAsync(ctx, 400, "InvalidRequest", "repo must be the session's DID; collection and rkey are required");
                return;
            }
            var uri = $"at://{repo}/{collection}/{rkey}";
            string? cid = null;
            var status = 200;
            lock (_writeLock)
            {
                switch (nsid)
                {
                    case "com.atproto.repo.createRecord":
                        if (_records.ContainsKey(uri))
                        {
                            Interlocked.Increment(ref _duplicateCreateAttempts);
                            status = 400;
                            break;
                        }
                        var created = root.GetProperty("record").GetRawText();
                        cid = CidFor(created);
                        _records[uri] = (created, cid);
                        _creates.AddOrUpdate(uri, 1, (_, n) => n + 1);
                        break;
                    case "com.atproto.repo.putRecord":
                        if (_records.ContainsKey(uri)) Interlocked.Increment(ref _putsOverExisting);
                        var put = root.GetProperty("record").GetRawText();
                        cid = CidFor(put);
                        _records[uri] = (put, cid);
                        break;
                    default:
                        _records.TryRemove(uri, out _);
                        break;
                }
            }
            Record(nsid, session.Did, rkey, status, status == 200);
            if (status == 400)
            {
                await ErrorAsync(ctx, 400, "InvalidRequest", "Record already exists");
                return;
            }
            if (fault is PdsFault.Drop)
            {
                ctx.Abort();
                return;
            }
            if (_hangDid is { } hang && hang == session.Did && Interlocked.CompareExchange(ref _hangDid, null, hang) == hang)
            {
                _hangStarted.TrySetResult();
                try
                {
                    await Task.Delay(Timeout.Infinite, ctx.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                }
                return;
            }
            await JsonAsync(ctx, 200, nsid == "com.atproto.repo.deleteRecord"
                ? """{"commit":{"cid":"bafyreihcommitcommitcommitcommitcommitcommitcommitcommitcommi","rev":"3kabcdefghijk"}}"""
                : JsonSerializer.Serialize(new { uri, cid, validationStatus = "unknown" }));
        }
    }

    /// <summary>createSession as a PDS does it: a POST with a JSON body, identifier (DID or handle) and the password checked.</summary>
    private async Task CreateSessionAsync(HttpContext ctx)
    {
        const string Nsid = "com.atproto.server.createSession";
        if (_accounts.IsEmpty)
        {
            Record(Nsid, null, null, 501, false);
            await ErrorAsync(ctx, 501, "MethodNotImplemented", "password sign-in is not enabled here");
            return;
        }
        string? identifier = null, password = null;
        if (HttpMethods.IsPost(ctx.Request.Method) && ctx.Request.ContentType?.StartsWith("application/json", StringComparison.Ordinal) == true)
        {
            try
            {
                using var body = await JsonDocument.ParseAsync(ctx.Request.Body, default, ctx.RequestAborted);
                if (body.RootElement.ValueKind == JsonValueKind.Object)
                {
                    identifier = body.RootElement.TryGetProperty("identifier", out var i) && i.ValueKind == JsonValueKind.String ? i.GetString() : null;
                    password = body.RootElement.TryGetProperty("password", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;
                }
            }
            catch (JsonException)
            {
            }
        }
        if (string.IsNullOrEmpty(identifier) || string.IsNullOrEmpty(password))
        {
            Record(Nsid, null, null, 400, false);
            await ErrorAsync(ctx, 400, "InvalidRequest", "identifier and password are required");
            return;
        }
        var account = _accounts.Values.FirstOrDefault(a => a.Did == identifier || string.Equals(a.Handle, identifier, StringComparison.OrdinalIgnoreCase));
        if (account.Did is null || !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(account.Password), Encoding.UTF8.GetBytes(password)))
        {
            Record(Nsid, account.Did, null, 401, false);
            await ErrorAsync(ctx, 401, "AuthenticationRequired", "Invalid identifier or password");
            return;
        }
        var (access, refresh, _) = CreateSession(account.Did);
        Record(Nsid, account.Did, null, 200, true);
        await JsonAsync(ctx, 200, JsonSerializer.Serialize(new { accessJwt = access, refreshJwt = refresh, handle = account.Handle, did = account.Did, active = true }));
    }

    private async Task RefreshAsync(HttpContext ctx, string token, bool dropAfter)
    {
        if (!_refresh.TryRemove(token, out var did))
        {
            Record("com.atproto.server.refreshSession", null, null, 400, false);
            await ErrorAsync(ctx, 400, "InvalidToken", "Token has been revoked");
            return;
        }
        var (access, refresh, _) = CreateSession(did);
        Record("com.atproto.server.refreshSession", did, null, 200, true);
        if (dropAfter)
        {
            ctx.Abort();
            return;
        }
        await JsonAsync(ctx, 200, JsonSerializer.Serialize(new { accessJwt = access, refreshJwt = refresh, handle = "user.test", did, active = true }));
    }

    private PdsFault? TakeFault(string nsid)
    {
        // Faults are consumed in order; one that names another method stays queued.
        if (_faults.TryPeek(out var next) && (next.Nsid is null || next.Nsid == nsid) && _faults.TryDequeue(out var taken))
        {
            return taken.Fault;
        }
        return null;
    }

    private void Record(string nsid, string? did, string? rkey, int status, bool applied)
    {
        if (RecordCalls || status != 200) _calls.Enqueue(new PdsCall(nsid, did, rkey, status, applied));
    }

    private static string Jwt(string did, DateTimeOffset expires, string scope)
    {
        static string B64(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var payload = JsonSerializer.Serialize(new { scope, sub = did, exp = expires.ToUnixTimeSeconds(), jti = Convert.ToHexString(RandomNumberGenerator.GetBytes(8)) });
        return $"{B64("""{"typ":"JWT","alg":"ES256K"}""")}.{B64(payload)}.{Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant()}";
    }

    /// <summary>A syntactically valid CIDv1 (dag-cbor, sha-256) over the record's JSON text.</summary>
    public static string CidFor(string json)
    {
        var bytes = new byte[36];
        bytes[0] = 0x01; bytes[1] = 0x71; bytes[2] = 0x12; bytes[3] = 0x20;
        SHA256.HashData(Encoding.UTF8.GetBytes(json), bytes.AsSpan(4));
        const string alphabet = "abcdefghijklmnopqrstuvwxyz234567";
        var sb = new StringBuilder("b");
        int buffer = 0, bits = 0;
        foreach (var b in bytes)
        {
            buffer = (buffer << 8) | b;
            bits += 8;
            while (bits >= 5)
            {
                sb.Append(alphabet[(buffer >> (bits - 5)) & 31]);
                bits -= 5;
            }
        }
        if (bits > 0) sb.Append(alphabet[(buffer << (5 - bits)) & 31]);
        return sb.ToString();
    }

    private static Task ErrorAsync(HttpContext ctx, int status, string error, string message, params (string Header, string Value)[] headers)
    {
        foreach (var (name, value) in headers) ctx.Response.Headers[name] = value;
        return JsonAsync(ctx, status, JsonSerializer.Serialize(new { error, message }));
    }

    private static async Task JsonAsync(HttpContext ctx, int status, string json)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json; charset=utf-8";
        await ctx.Response.WriteAsync(json);
    }

    public async ValueTask DisposeAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _app.StopAsync(cts.Token);
        await _app.DisposeAsync();
    }
}
