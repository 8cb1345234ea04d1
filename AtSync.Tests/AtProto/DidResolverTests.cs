using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using AtSync.AtProto.Identity;
using AtSync.AtProto.Syntax;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace AtSync.Tests.AtProto;

/// <summary>The resolver against a loopback PLC directory serving the corpus's real DID documents.</summary>
public sealed class DidResolverTests : IAsyncLifetime
{
    private LoopbackHttpServer _plc = null!;
    private HttpClient _http = null!;
    private Dictionary<string, JsonElement> _docs = null!;
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 23, 9, 0, 0, TimeSpan.Zero));

    public async Task InitializeAsync()
    {
        _docs = DidDocumentTests.CorpusDidDocs();
        _plc = await LoopbackHttpServer.StartAsync();
        _plc.Handler = ServePlc;
        _http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _plc.DisposeAsync();
    }

    private Task ServePlc(HttpContext ctx, RecordedRequest req)
    {
        var did = req.Path.TrimStart('/');
        return _docs.TryGetValue(did, out var doc)
            ? LoopbackHttpServer.Json(ctx, 200, doc.GetRawText())
            : LoopbackHttpServer.Json(ctx, 404, $$"""{"message":"DID not registered: {{did}}"}""");
    }

    private DidResolver Resolver(int capacity = 100, TimeSpan? ttl = null) => new(_http, new DidResolverOptions
    {
        PlcDirectory = _plc.BaseUri,
        CacheCapacity = capacity,
        CacheTtl = ttl ?? TimeSpan.FromMinutes(10),
    }, _time);

    private Did CorpusDid(int index) => Did.Parse(_docs.Keys.Order(StringComparer.Ordinal).ElementAt(index));

    [Fact]
    public async Task Resolves_plc_documents_from_the_directory()
    {
        var resolver = Resolver();
        foreach (var did in _docs.Keys.Take(10).Select(Did.Parse))
        {
            var doc = await resolver.ResolveAsync(did);
            Assert.Equal(did, doc.Id);
            Assert.NotNull(doc.SigningKey);
            Assert.NotNull(doc.Handle);
            Assert.NotNull(doc.PdsEndpoint);
        }
        Assert.Equal(10, _plc.Requests.Count);
        Assert.All(_plc.Requests, r =>
        {
            Assert.Equal("GET", r.Method);
            Assert.StartsWith("/did:plc:", r.Path);
            Assert.Contains("json", r.Header("Accept"));
        });
    }

    [Fact]
    public async Task Cache_serves_repeats_until_ttl_then_refetches()
    {
        var resolver = Resolver(ttl: TimeSpan.FromMinutes(10));
        var did = CorpusDid(0);

        var first = await resolver.ResolveAsync(did);
        var second = await resolver.ResolveAsync(did);
        Assert.Same(first, second);
        Assert.Single(_plc.Requests);

        _time.Advance(TimeSpan.FromMinutes(11));
        var third = await resolver.ResolveAsync(did);
        Assert.NotSame(first, third);
        Assert.Equal(2, _plc.Requests.Count);

        resolver.Invalidate(did);
        await resolver.ResolveAsync(did);
        Assert.Equal(3, _plc.Requests.Count);

        await resolver.RefreshAsync(did);
        Assert.Equal(4, _plc.Requests.Count);
        await resolver.ResolveAsync(did);
        Assert.Equal(4, _plc.Requests.Count);
    }

    [Fact]
    public async Task Cache_is_bounded_and_evicts_least_recently_used()
    {
        var resolver = Resolver(capacity: 2);
        var (a, b, c) = (CorpusDid(0), CorpusDid(1), CorpusDid(2));

        await resolver.ResolveAsync(a);
        await resolver.ResolveAsync(b);
        await resolver.ResolveAsync(a); // a is now most recent
        await resolver.ResolveAsync(c); // evicts b
        Assert.Equal(2, resolver.CachedCount);
        Assert.Equal(3, _plc.Requests.Count);

        await resolver.ResolveAsync(a);
        Assert.Equal(3, _plc.Requests.Count);
        await resolver.ResolveAsync(b);
        Assert.Equal(4, _plc.Requests.Count);
        Assert.Equal(2, resolver.CachedCount);
    }

    [Fact]
    public async Task Concurrent_resolves_of_one_did_share_a_fetch()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _plc.Handler = async (ctx, req) =>
        {
            await release.Task.WaitAsync(TimeSpan.FromSeconds(10));
            await ServePlc(ctx, req);
        };
        var resolver = Resolver();
        var did = CorpusDid(3);

        var tasks = Enumerable.Range(0, 8).Select(_ => resolver.ResolveAsync(did)).ToArray();
        await WaitUntil(() => _plc.Requests.Count >= 1);
        release.SetResult();
        var docs = await Task.WhenAll(tasks);

        Assert.Single(_plc.Requests);
        Assert.All(docs, d => Assert.Same(docs[0], d));
    }

    [Fact]
    public async Task At_most_the_configured_number_of_fetches_run_at_once_across_dids()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var running = 0;
        var peak = 0;
        _plc.Handler = async (ctx, req) =>
        {
            var now = Interlocked.Increment(ref running);
            lock (_plc) peak = Math.Max(peak, now);
            await release.Task.WaitAsync(TimeSpan.FromSeconds(10));
            Interlocked.Decrement(ref running);
            await ServePlc(ctx, req);
        };
        var resolver = new DidResolver(_http, new DidResolverOptions { PlcDirectory = _plc.BaseUri, MaxConcurrentFetches = 2 }, _time);

        var tasks = Enumerable.Range(0, 6).Select(i => resolver.ResolveAsync(CorpusDid(i))).ToArray();
        await WaitUntil(() => _plc.Requests.Count >= 2);
        await Task.Delay(300);
        Assert.Equal(2, _plc.Requests.Count);
        release.SetResult();
        await Task.WhenAll(tasks);

        Assert.Equal(6, _plc.Requests.Count);
        Assert.Equal(2, peak);
    }

    [Fact]
    public async Task Failures_are_remembered_for_their_ttl_and_a_refresh_asks_again()
    {
        _plc.Handler = (ctx, _) => LoopbackHttpServer.Json(ctx, 404, """{"message":"nope"}""");
        var resolver = new DidResolver(_http, new DidResolverOptions
        {
            PlcDirectory = _plc.BaseUri, NegativeCacheTtl = TimeSpan.FromSeconds(30), UnavailableCacheTtl = TimeSpan.FromSeconds(1),
        }, _time);
        var missing = CorpusDid(7);

        Assert.Equal(DidResolutionError.NotFound, (await Assert.ThrowsAsync<DidResolutionException>(() => resolver.ResolveAsync(missing))).Error);
        Assert.Equal(DidResolutionError.NotFound, (await Assert.ThrowsAsync<DidResolutionException>(() => resolver.ResolveAsync(missing))).Error);
        Assert.Single(_plc.Requests);
        _time.Advance(TimeSpan.FromSeconds(31));
        await Assert.ThrowsAsync<DidResolutionException>(() => resolver.ResolveAsync(missing));
        Assert.Equal(2, _plc.Requests.Count);
        await Assert.ThrowsAsync<DidResolutionException>(() => resolver.RefreshAsync(missing));
        Assert.Equal(3, _plc.Requests.Count);

        // An outage is remembered only briefly.
        _plc.Handler = (ctx, _) => LoopbackHttpServer.Json(ctx, 503, """{"message":"down"}""");
        var down = CorpusDid(8);
        await Assert.ThrowsAsync<DidResolutionException>(() => resolver.ResolveAsync(down));
        await Assert.ThrowsAsync<DidResolutionException>(() => resolver.ResolveAsync(down));
        Assert.Equal(4, _plc.Requests.Count);
        _time.Advance(TimeSpan.FromSeconds(2));
        _plc.Handler = ServePlc;
        Assert.Equal(down, (await resolver.ResolveAsync(down)).Id);
        Assert.Equal(5, _plc.Requests.Count);
    }

    [Fact]
    public async Task A_caller_cancelling_does_not_break_the_shared_fetch()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _plc.Handler = async (ctx, req) =>
        {
            await release.Task.WaitAsync(TimeSpan.FromSeconds(10));
            await ServePlc(ctx, req);
        };
        var resolver = Resolver();
        var did = CorpusDid(4);
        using var cts = new CancellationTokenSource();

        var cancelled = resolver.ResolveAsync(did, cts.Token);
        var patient = resolver.ResolveAsync(did);
        await WaitUntil(() => _plc.Requests.Count >= 1);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        release.SetResult();

        Assert.Equal(did, (await patient).Id);
        Assert.Single(_plc.Requests);
    }

    [Theory]
    [InlineData(404, DidResolutionError.NotFound)]
    [InlineData(410, DidResolutionError.Tombstoned)]
    [InlineData(500, DidResolutionError.Unavailable)]
    [InlineData(502, DidResolutionError.Unavailable)]
    [InlineData(429, DidResolutionError.Unavailable)]
    public async Task Http_failures_map_to_errors_and_are_not_cached(int status, DidResolutionError expected)
    {
        _plc.Handler = (ctx, _) => LoopbackHttpServer.Json(ctx, status, """{"message":"nope"}""");
        var resolver = Resolver();
        var did = CorpusDid(5);

        var ex = await Assert.ThrowsAsync<DidResolutionException>(() => resolver.ResolveAsync(did));
        Assert.Equal(expected, ex.Error);
        Assert.Equal((HttpStatusCode)status, ex.StatusCode);
        Assert.Equal(did, ex.Did);
        Assert.Equal(expected == DidResolutionError.Unavailable, ex.IsTransient);

        _plc.Handler = ServePlc;
        Assert.Equal(did, (await resolver.ResolveAsync(did)).Id);
        Assert.Equal(2, _plc.Requests.Count);
    }

    [Theory]
    [InlineData("<html>502</html>")]
    [InlineData("""{"id":"did:plc:aaaaaaaaaaaaaaaaaaaaaaaa"}""")]
    [InlineData("""{"no":"id"}""")]
    public async Task Bad_or_mismatched_documents_are_InvalidDocument(string body)
    {
        _plc.Handler = (ctx, _) => LoopbackHttpServer.Json(ctx, 200, body);
        var ex = await Assert.ThrowsAsync<DidResolutionException>(() => Resolver().ResolveAsync(CorpusDid(6)));
        Assert.Equal(DidResolutionError.InvalidDocument, ex.Error);
        Assert.False(ex.IsTransient);
    }

    [Fact]
    public async Task Oversized_documents_are_refused()
    {
        _plc.Handler = async (ctx, _) =>
        {
            ctx.Response.ContentType = "application/json";
            await ctx.Response.WriteAsync("{\"id\":\"" + new string('x', DidDocument.MaxBytes) + "\"}");
        };
        var ex = await Assert.ThrowsAsync<DidResolutionException>(() => Resolver().ResolveAsync(CorpusDid(7)));
        Assert.Equal(DidResolutionError.InvalidDocument, ex.Error);
        Assert.Contains("larger", ex.Message);
    }

    [Fact]
    public async Task Unreachable_directory_is_Unavailable()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var resolver = new DidResolver(_http, new DidResolverOptions { PlcDirectory = new Uri($"http://127.0.0.1:{port}") }, _time);

        var ex = await Assert.ThrowsAsync<DidResolutionException>(() => resolver.ResolveAsync(CorpusDid(8)));
        Assert.Equal(DidResolutionError.Unavailable, ex.Error);
        Assert.True(ex.IsTransient);
        Assert.StartsWith("request failed: ConnectionError (", ex.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_did_web_host_on_its_own_port_with_an_untrusted_certificate_is_Unavailable_naming_the_cause()
    {
        // did:web:localhost%3A<port> over real TLS through the guarded client; this process does not trust the host's
        // self-signed certificate, as a forum does not trust one a did:web operator forgot to have signed.
        using var frames = AtSync.Testing.Synthetic.ForumFrameFactory.Create();
        await using var host = await AtSync.Tests.Firehose.LoopbackDidWebHost.StartAsync(
            frames.SigningKey.PublicKey, AtSync.Tests.Infrastructure.ServiceProcess.FreeLoopbackPort(), AtSync.Tests.Firehose.DidWebBehavior.Serve);
        using var http = IdentityHttpHandler.CreateClient(new IdentityNetworkOptions { AllowedHosts = ["localhost"] });
        var resolver = new DidResolver(http, new DidResolverOptions(), _time);
        var did = Did.Parse(host.Did);
        Assert.Equal(new Uri($"https://localhost:{host.Port}/.well-known/did.json"), resolver.DocumentUrl(did));

        var ex = await Assert.ThrowsAsync<DidResolutionException>(() => resolver.ResolveAsync(did));
        Assert.Equal(DidResolutionError.Unavailable, ex.Error);
        Assert.StartsWith("request failed: SecureConnectionError (", ex.Detail, StringComparison.Ordinal);
        Assert.Contains("UntrustedRoot", ex.Detail, StringComparison.Ordinal);
        Assert.Equal(0, host.Requests);
    }

    [Fact]
    public async Task Resilience_pipeline_timeouts_are_Unavailable_not_foreign_exceptions()
    {
        _plc.Handler = (ctx, _) => Task.Delay(TimeSpan.FromSeconds(20), ctx.RequestAborted);
        var services = new ServiceCollection();
        services.AddHttpClient("plc").AddStandardResilienceHandler(o =>
        {
            o.AttemptTimeout.Timeout = TimeSpan.FromMilliseconds(200);
            o.TotalRequestTimeout.Timeout = TimeSpan.FromMilliseconds(1000);
            o.CircuitBreaker.SamplingDuration = TimeSpan.FromSeconds(5);
            o.Retry.MaxRetryAttempts = 1;
            o.Retry.Delay = TimeSpan.FromMilliseconds(10);
        });
        await using var provider = services.BuildServiceProvider();
        var http = provider.GetRequiredService<IHttpClientFactory>().CreateClient("plc");
        var resolver = new DidResolver(http, new DidResolverOptions { PlcDirectory = _plc.BaseUri }, _time);

        var ex = await Assert.ThrowsAsync<DidResolutionException>(() => resolver.ResolveAsync(CorpusDid(9)));

        Assert.Equal(DidResolutionError.Unavailable, ex.Error);
        Assert.True(ex.IsTransient);
        Assert.Equal(0, resolver.CachedCount);
    }

    [Fact]
    public async Task Did_web_is_fetched_from_the_hosts_well_known_path()
    {
        var did = Did.Parse($"did:web:127.0.0.1%3A{_plc.BaseUri.Port}");
        var (plcDid, source) = _docs.First();
        // The same real document, re-homed: every mention of the PLC DID (id, #atproto controller) becomes the did:web.
        var json = source.GetRawText().Replace(plcDid, did.Value, StringComparison.Ordinal);
        _plc.Handler = (ctx, _) => LoopbackHttpServer.Json(ctx, 200, json);
        var resolver = new DidResolver(_http, new DidResolverOptions { PlcDirectory = _plc.BaseUri, DidWebScheme = "http" }, _time);

        var resolved = await resolver.ResolveAsync(did);

        Assert.Equal(did, resolved.Id);
        Assert.NotNull(resolved.SigningKey);
        Assert.Equal("/.well-known/did.json", _plc.SingleRequest.Path);
        Assert.Equal(new Uri("https://example.com/.well-known/did.json"),
            new DidResolver(_http).DocumentUrl(Did.Parse("did:web:example.com")));
    }

    [Theory]
    [InlineData("did:key:zQ3shqwJEJyMBsBXCWyCBpUBMqxcon9oHB7mCvx4sSpMdLJwc")]
    [InlineData("did:example:123")]
    [InlineData("did:web:example.com:users:alice")]
    [InlineData("did:web:exa%2Fmple.com")]
    [InlineData("did:plc:short")]
    [InlineData("did:plc:ewvi7nxzyoun6zhxrhs64oi1")]
    public async Task Unsupported_dids_fail_without_a_request(string did)
    {
        var ex = await Assert.ThrowsAsync<DidResolutionException>(() => Resolver().ResolveAsync(Did.Parse(did)));
        Assert.Equal(DidResolutionError.UnsupportedDid, ex.Error);
        Assert.Empty(_plc.Requests);
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        for (var i = 0; i < 200 && !condition(); i++)
        {
            await Task.Delay(25);
        }
        Assert.True(condition(), "condition not reached within 5 s");
    }
}
