using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using AtSync.AtProto.Xrpc;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace AtSync.Tests.AtProto;

public sealed class XrpcClientTests : IAsyncLifetime
{
    private const string AccessToken = "eyJhbGciOiJFUzI1NksifQ.access-SECRET-7f3a9c.sig";
    private const string RefreshToken = "eyJhbGciOiJFUzI1NksifQ.refresh-SECRET-1b2c3d.sig";

    private LoopbackHttpServer _server = null!;
    private HttpClient _http = null!;
    private XrpcClient _client = null!;

    public async Task InitializeAsync()
    {
        _server = await LoopbackHttpServer.StartAsync();
        _http = new HttpClient { BaseAddress = _server.BaseUri, Timeout = TimeSpan.FromSeconds(10) };
        _client = new XrpcClient(_http);
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    private static void AssertJsonEqual(string expected, string actual) =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), JsonNode.Parse(actual)), $"expected {expected}\nactual   {actual}");

    private static void AssertNoSecrets(Exception ex)
    {
        var text = ex.ToString();
        Assert.DoesNotContain(AccessToken, text);
        Assert.DoesNotContain(RefreshToken, text);
        Assert.DoesNotContain("SECRET", text);
    }

    [Fact]
    public async Task Query_sends_get_with_escaped_parameters_and_no_authorization()
    {
        _server.Handler = (ctx, _) => LoopbackHttpServer.Json(ctx, 200, """{"did":"did:plc:abc123"}""");

        var result = await _client.ResolveHandleAsync("alice.example.com");

        Assert.Equal("did:plc:abc123", result.Value.Did);
        Assert.Equal(HttpStatusCode.OK, result.StatusCode);
        Assert.Null(result.RateLimit);
        var req = _server.SingleRequest;
        Assert.Equal("GET", req.Method);
        Assert.Equal("/xrpc/com.atproto.identity.resolveHandle", req.Path);
        Assert.Equal("?handle=alice.example.com", req.QueryString);
        Assert.Null(req.Header("Authorization"));
        Assert.Contains("application/json", req.Header("Accept"));
        Assert.Empty(req.Body);
    }

    [Fact]
    public async Task Generic_query_skips_nulls_repeats_keys_escapes_and_sends_bearer()
    {
        _server.Handler = (ctx, _) => LoopbackHttpServer.Json(ctx, 200, """{"did":"did:plc:x"}""");

        await _client.QueryAsync("app.example.getThings",
            [new("uris", "at://a/b/c"), new("uris", "x y&z=1"), new("cursor", null), new("limit", "50")],
            XrpcJsonContext.Default.ResolveHandleOutput, AccessToken);

        var req = _server.SingleRequest;
        Assert.Equal("/xrpc/app.example.getThings", req.Path);
        Assert.Equal("?uris=at%3A%2F%2Fa%2Fb%2Fc&uris=x%20y%26z%3D1&limit=50", req.QueryString);
        Assert.Equal("Bearer " + AccessToken, req.Header("Authorization"));
    }

    [Fact]
    public async Task CreateRecord_posts_json_body_with_bearer_and_returns_uri_and_cid()
    {
        _server.Handler = (ctx, _) => LoopbackHttpServer.Json(ctx, 200,
            """{"uri":"at://did:plc:u1/net.vza.forum.post/3l4abc","cid":"bafyreib2rxk3rh6kzwq","commit":{"cid":"bafyc","rev":"3l4rev"},"validationStatus":"unknown"}""",
            ("RateLimit-Limit", "5000"), ("RateLimit-Remaining", "4999"), ("RateLimit-Reset", "1795000000"), ("RateLimit-Policy", "5000;w=3600"));
        const string recordJson = """{"$type":"net.vza.forum.post","text":"Hello [b]world[/b] ünïcode","createdAt":"2026-11-23T08:00:00.000Z","forum":{"uri":"at://did:plc:f/net.vza.forum.board/main","cid":"bafyf"},"tags":[1,2.5,null,true]}""";

        var result = await _client.CreateRecordAsync(new CreateRecordInput
        {
            Repo = "did:plc:u1",
            Collection = "net.vza.forum.post",
            Record = XrpcRecord.FromJson(recordJson),
            SwapCommit = "bafyprev",
        }, AccessToken);

        var req = _server.SingleRequest;
        Assert.Equal("POST", req.Method);
        Assert.Equal("/xrpc/com.atproto.repo.createRecord", req.Path);
        Assert.Equal("", req.QueryString);
        Assert.Equal("Bearer " + AccessToken, req.Header("Authorization"));
        Assert.StartsWith("application/json", req.Header("Content-Type"));
        AssertJsonEqual($$"""{"repo":"did:plc:u1","collection":"net.vza.forum.post","record":{{recordJson}},"swapCommit":"bafyprev"}""", req.BodyText);

        Assert.Equal("at://did:plc:u1/net.vza.forum.post/3l4abc", result.Value.Uri);
        Assert.Equal("bafyreib2rxk3rh6kzwq", result.Value.Cid);
        Assert.Equal(new CommitMeta("bafyc", "3l4rev"), result.Value.Commit);
        Assert.Equal("unknown", result.Value.ValidationStatus);
        Assert.NotNull(result.RateLimit);
        Assert.Equal(5000, result.RateLimit.Limit);
        Assert.Equal(4999, result.RateLimit.Remaining);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1795000000), result.RateLimit.Reset);
        Assert.Equal("5000;w=3600", result.RateLimit.Policy);
        Assert.Null(result.RateLimit.RetryAfter);
    }

    [Fact]
    public async Task CreateRecord_accepts_utf8_and_JsonNode_records()
    {
        _server.Handler = (ctx, _) => LoopbackHttpServer.Json(ctx, 200, """{"uri":"at://did:plc:u1/c.d.e/k","cid":"bafy"}""");
        var fromUtf8 = XrpcRecord.FromUtf8("""{"$type":"c.d.e","n":1}  """u8);
        var fromNode = XrpcRecord.FromNode(new JsonObject { ["$type"] = "c.d.e", ["n"] = 2 });

        await _client.CreateRecordAsync(new CreateRecordInput { Repo = "did:plc:u1", Collection = "c.d.e", Rkey = "k", Validate = false, Record = fromUtf8 }, AccessToken);
        await _client.CreateRecordAsync(new CreateRecordInput { Repo = "did:plc:u1", Collection = "c.d.e", Record = fromNode }, AccessToken);

        var reqs = _server.Requests;
        AssertJsonEqual("""{"repo":"did:plc:u1","collection":"c.d.e","rkey":"k","validate":false,"record":{"$type":"c.d.e","n":1}}""", reqs[0].BodyText);
        AssertJsonEqual("""{"repo":"did:plc:u1","collection":"c.d.e","record":{"$type":"c.d.e","n":2}}""", reqs[1].BodyText);
    }

    [Theory]
    [InlineData("[1,2]")]
    [InlineData("\"text\"")]
    [InlineData("{\"a\":1} {\"b\":2}")]
    [InlineData("{\"a\":")]
    public void Record_json_must_be_one_object(string json)
    {
        var ex = Record.Exception(() => XrpcRecord.FromJson(json));
        Assert.True(ex is ArgumentException or JsonException, ex?.GetType().Name ?? "no exception");
    }

    [Fact]
    public async Task PutRecord_sends_swapRecord_and_rkey()
    {
        _server.Handler = (ctx, _) => LoopbackHttpServer.Json(ctx, 200, """{"uri":"at://did:plc:u1/net.vza.forum.post/3k","cid":"bafynew"}""");

        var result = await _client.PutRecordAsync(new PutRecordInput
        {
            Repo = "did:plc:u1", Collection = "net.vza.forum.post", Rkey = "3k",
            Record = XrpcRecord.FromJson("""{"$type":"net.vza.forum.post","text":"edited"}"""), SwapRecord = "bafyold",
        }, AccessToken);

        var req = _server.SingleRequest;
        Assert.Equal("/xrpc/com.atproto.repo.putRecord", req.Path);
        AssertJsonEqual("""{"repo":"did:plc:u1","collection":"net.vza.forum.post","rkey":"3k","record":{"$type":"net.vza.forum.post","text":"edited"},"swapRecord":"bafyold"}""", req.BodyText);
        Assert.Equal("bafynew", result.Value.Cid);
        Assert.Null(result.Value.Commit);
    }

    [Fact]
    public async Task DeleteRecord_accepts_empty_and_commit_bodies()
    {
        var n = 0;
        _server.Handler = (ctx, _) => n++ == 0
            ? Task.CompletedTask
            : LoopbackHttpServer.Json(ctx, 200, """{"commit":{"cid":"bafyc2","rev":"3lrev2"}}""");
        var input = new DeleteRecordInput { Repo = "did:plc:u1", Collection = "net.vza.forum.post", Rkey = "3k", SwapRecord = "bafyold" };

        var first = await _client.DeleteRecordAsync(input, AccessToken);
        var second = await _client.DeleteRecordAsync(input, AccessToken);

        Assert.Null(first.Value.Commit);
        Assert.Equal(new CommitMeta("bafyc2", "3lrev2"), second.Value.Commit);
        var req = _server.Requests[0];
        Assert.Equal("POST", req.Method);
        Assert.Equal("/xrpc/com.atproto.repo.deleteRecord", req.Path);
        Assert.Equal("Bearer " + AccessToken, req.Header("Authorization"));
        AssertJsonEqual("""{"repo":"did:plc:u1","collection":"net.vza.forum.post","rkey":"3k","swapRecord":"bafyold"}""", req.BodyText);
    }

    [Fact]
    public async Task RefreshSession_posts_with_refresh_token_and_hides_tokens_in_ToString()
    {
        _server.Handler = (ctx, _) => LoopbackHttpServer.Json(ctx, 200,
            $$"""{"accessJwt":"{{AccessToken}}","refreshJwt":"{{RefreshToken}}","handle":"alice.test","did":"did:plc:alice","active":true}""");

        var result = await _client.RefreshSessionAsync(RefreshToken);

        var req = _server.SingleRequest;
        Assert.Equal("POST", req.Method);
        Assert.Equal("/xrpc/com.atproto.server.refreshSession", req.Path);
        Assert.Equal("Bearer " + RefreshToken, req.Header("Authorization"));
        Assert.Empty(req.Body);
        Assert.Equal(AccessToken, result.Value.AccessJwt);
        Assert.Equal(RefreshToken, result.Value.RefreshJwt);
        Assert.Equal("alice.test", result.Value.Handle);
        Assert.Equal("did:plc:alice", result.Value.Did);
        Assert.True(result.Value.Active);
        var text = result.Value.ToString() + " " + result;
        Assert.DoesNotContain("SECRET", text);
        Assert.Contains("did:plc:alice", text);
    }

    [Theory]
    [InlineData(400, "ExpiredToken", "Token has expired")]
    [InlineData(401, "InvalidToken", "Token could not be verified")]
    [InlineData(400, "InvalidSwap", "Record was at bafyxyz")]
    [InlineData(400, "InvalidRequest", "Input/record must be an object")]
    [InlineData(500, "InternalServerError", "Internal Server Error")]
    public async Task Error_bodies_map_to_XrpcException(int status, string error, string message)
    {
        _server.Handler = (ctx, _) => LoopbackHttpServer.Json(ctx, status, JsonSerializer.Serialize(new { error, message }));

        var ex = await Assert.ThrowsAsync<XrpcException>(() => _client.CreateRecordAsync(new CreateRecordInput
        {
            Repo = "did:plc:u1", Collection = "a.b.c", Record = XrpcRecord.FromJson("{}"),
        }, AccessToken));

        Assert.Equal(XrpcErrorKind.ServerError, ex.Kind);
        Assert.Equal((HttpStatusCode)status, ex.StatusCode);
        Assert.Equal(error, ex.Error);
        Assert.Equal(message, ex.ErrorMessage);
        Assert.Equal("com.atproto.repo.createRecord", ex.Nsid);
        Assert.Contains(error, ex.Message);
        Assert.Contains(message, ex.Message);
        Assert.Equal(error == "ExpiredToken", ex.IsExpiredToken);
        Assert.Equal(status >= 500, ex.IsTransient);
        AssertNoSecrets(ex);
    }

    [Fact]
    public async Task Rate_limited_error_surfaces_headers_and_retry_after_seconds()
    {
        _server.Handler = (ctx, _) => LoopbackHttpServer.Json(ctx, 429,
            """{"error":"RateLimitExceeded","message":"Rate Limit Exceeded"}""",
            ("RateLimit-Limit", "3000"), ("RateLimit-Remaining", "0"), ("RateLimit-Reset", "1795000300"),
            ("RateLimit-Policy", "3000;w=300"), ("Retry-After", "120"));

        var ex = await Assert.ThrowsAsync<XrpcException>(() => _client.ResolveHandleAsync("alice.test"));

        Assert.Equal(HttpStatusCode.TooManyRequests, ex.StatusCode);
        Assert.Equal("RateLimitExceeded", ex.Error);
        Assert.True(ex.IsTransient);
        Assert.NotNull(ex.RateLimit);
        Assert.Equal(3000, ex.RateLimit.Limit);
        Assert.Equal(0, ex.RateLimit.Remaining);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1795000300), ex.RateLimit.Reset);
        Assert.Equal("3000;w=300", ex.RateLimit.Policy);
        Assert.Equal(TimeSpan.FromSeconds(120), ex.RetryAfter);
        var received = DateTimeOffset.FromUnixTimeSeconds(1795000000);
        Assert.Equal(received.AddSeconds(120), ex.RateLimit.RetryAt(received));
    }

    [Fact]
    public async Task Retry_after_http_date_is_relative_to_the_time_provider()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 23, 9, 0, 0, TimeSpan.Zero));
        var client = new XrpcClient(_http, time);
        _server.Handler = (ctx, _) => LoopbackHttpServer.Json(ctx, 503, """{"error":"Unavailable"}""",
            ("Retry-After", "Mon, 23 Nov 2026 09:01:30 GMT"));

        var ex = await Assert.ThrowsAsync<XrpcException>(() => client.ResolveHandleAsync("alice.test"));

        Assert.Equal(TimeSpan.FromSeconds(90), ex.RetryAfter);
        Assert.Null(ex.ErrorMessage);
        Assert.True(ex.IsTransient);
        Assert.Null(ex.RateLimit!.Limit);
    }

    [Fact]
    public async Task Remaining_zero_without_retry_after_retries_at_reset()
    {
        _server.Handler = (ctx, _) => LoopbackHttpServer.Json(ctx, 200, """{"did":"did:plc:x"}""",
            ("RateLimit-Remaining", "0"), ("RateLimit-Reset", "1795000300"), ("RateLimit-Limit", "not-a-number"));

        var result = await _client.ResolveHandleAsync("alice.test");

        Assert.Null(result.RateLimit!.Limit);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1795000300), result.RateLimit.RetryAt(DateTimeOffset.FromUnixTimeSeconds(1795000000)));
    }

    [Fact]
    public async Task Html_502_from_a_proxy_becomes_HttpError_with_short_clean_message()
    {
        var filler = string.Concat(Enumerable.Repeat("<p>padding padding padding</p>\n", 500));
        _server.Handler = async (ctx, _) =>
        {
            ctx.Response.StatusCode = 502;
            ctx.Response.ContentType = "text/html";
            await ctx.Response.WriteAsync($"<html>\r\n<head><title>502 Bad Gateway</title></head>\n<body><center><h1>502 Bad Gateway</h1></center><hr>nginx {AccessToken}\n{filler}</body></html>");
        };

        var ex = await Assert.ThrowsAsync<XrpcException>(() => _client.CreateRecordAsync(new CreateRecordInput
        {
            Repo = "did:plc:u1", Collection = "a.b.c", Record = XrpcRecord.FromJson("{}"),
        }, AccessToken));

        Assert.Equal(XrpcErrorKind.ServerError, ex.Kind);
        Assert.Equal(HttpStatusCode.BadGateway, ex.StatusCode);
        Assert.Equal(XrpcException.HttpError, ex.Error);
        Assert.Equal("HTTP 502: 502 Bad Gateway", ex.ErrorMessage);
        Assert.True(ex.IsTransient);
        AssertNoSecrets(ex);
    }

    [Fact]
    public async Task Plain_text_error_is_tag_free_truncated_and_token_redacted()
    {
        _server.Handler = async (ctx, _) =>
        {
            ctx.Response.StatusCode = 400;
            ctx.Response.ContentType = "text/plain";
            await ctx.Response.WriteAsync($"bad\tauth header {AccessToken}\u0007 " + new string('x', 5000));
        };

        var ex = await Assert.ThrowsAsync<XrpcException>(() => _client.QueryAsync("a.b.c", null, XrpcJsonContext.Default.ResolveHandleOutput, AccessToken));

        Assert.Equal(XrpcException.HttpError, ex.Error);
        Assert.NotNull(ex.ErrorMessage);
        Assert.StartsWith("HTTP 400: bad auth header [redacted] xxx", ex.ErrorMessage);
        Assert.True(ex.ErrorMessage.Length <= XrpcClient.MaxErrorMessageChars + 1);
        Assert.DoesNotContain('\u0007', ex.ErrorMessage);
        Assert.False(ex.IsTransient);
        AssertNoSecrets(ex);
    }

    [Fact]
    public async Task Json_error_echoing_the_token_is_redacted()
    {
        _server.Handler = (ctx, rec) => LoopbackHttpServer.Json(ctx, 401,
            JsonSerializer.Serialize(new { error = "InvalidToken", message = "Bad token: " + rec.Header("Authorization") }));

        var ex = await Assert.ThrowsAsync<XrpcException>(() => _client.RefreshSessionAsync(RefreshToken));

        Assert.Equal("InvalidToken", ex.Error);
        Assert.Equal("Bad token: Bearer [redacted]", ex.ErrorMessage);
        AssertNoSecrets(ex);
    }

    [Theory]
    [InlineData("""{"message":"no error field"}""", "HTTP 404: no error field")]
    [InlineData("""{"error":42}""", "HTTP 404")]
    [InlineData("""{"error":"has space <script>"}""", "HTTP 404")]
    [InlineData("""[1,2,3]""", "HTTP 404")]
    [InlineData("", "HTTP 404")]
    public async Task Json_errors_without_a_usable_name_are_HttpError(string body, string expectedMessage)
    {
        _server.Handler = (ctx, _) => LoopbackHttpServer.Json(ctx, 404, body);

        var ex = await Assert.ThrowsAsync<XrpcException>(() => _client.ResolveHandleAsync("alice.test"));

        Assert.Equal(XrpcException.HttpError, ex.Error);
        Assert.Equal(expectedMessage, ex.ErrorMessage);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("""{"uri":"at://x/y/z"}""")]
    [InlineData("")]
    [InlineData("null")]
    public async Task Success_with_malformed_output_is_InvalidResponse(string body)
    {
        _server.Handler = (ctx, _) => LoopbackHttpServer.Json(ctx, 200, body);

        var ex = await Assert.ThrowsAsync<XrpcException>(() => _client.CreateRecordAsync(new CreateRecordInput
        {
            Repo = "did:plc:u1", Collection = "a.b.c", Record = XrpcRecord.FromJson("{}"),
        }, AccessToken));

        Assert.Equal(XrpcErrorKind.InvalidResponse, ex.Kind);
        Assert.Equal(XrpcException.InvalidResponseError, ex.Error);
        Assert.Equal(HttpStatusCode.OK, ex.StatusCode);
        Assert.False(ex.IsTransient);
    }

    [Theory]
    [InlineData(400)]
    [InlineData(200)]
    public async Task Json_with_invalid_utf8_strings_is_handled(int status)
    {
        _server.Handler = async (ctx, _) =>
        {
            ctx.Response.StatusCode = status;
            ctx.Response.ContentType = "application/json";
            byte[] body = [.. "{\"error\":\"Bad"u8, 0xff, .. "\",\"message\":\"x"u8, 0xa0, .. "\",\"did\":\"did:"u8, 0xc3, .. "\"}"u8];
            await ctx.Response.Body.WriteAsync(body);
        };

        var ex = await Assert.ThrowsAsync<XrpcException>(() => _client.ResolveHandleAsync("alice.test"));

        Assert.Equal(status == 200 ? XrpcErrorKind.InvalidResponse : XrpcErrorKind.ServerError, ex.Kind);
        Assert.Equal(status == 200 ? XrpcException.InvalidResponseError : XrpcException.HttpError, ex.Error);
    }

    [Fact]
    public async Task Connection_refused_is_a_transient_transport_error()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(10) };

        var ex = await Assert.ThrowsAsync<XrpcException>(() => new XrpcClient(http).RefreshSessionAsync(RefreshToken));

        Assert.Equal(XrpcErrorKind.Transport, ex.Kind);
        Assert.Equal(XrpcException.TransportError, ex.Error);
        Assert.Null(ex.StatusCode);
        Assert.True(ex.IsTransient);
        AssertNoSecrets(ex);
    }

    [Fact]
    public async Task Connection_reset_mid_request_is_a_transport_error()
    {
        _server.Handler = (ctx, _) =>
        {
            ctx.Abort();
            return Task.CompletedTask;
        };

        var ex = await Assert.ThrowsAsync<XrpcException>(() => _client.ResolveHandleAsync("alice.test"));

        Assert.Equal(XrpcErrorKind.Transport, ex.Kind);
        Assert.True(ex.IsTransient);
    }

    [Fact]
    public async Task Http_timeout_is_a_timeout_error_but_caller_cancellation_is_not_wrapped()
    {
        _server.Handler = (ctx, _) => Task.Delay(TimeSpan.FromSeconds(20), ctx.RequestAborted);
        using var shortHttp = new HttpClient { BaseAddress = _server.BaseUri, Timeout = TimeSpan.FromMilliseconds(300) };

        var ex = await Assert.ThrowsAsync<XrpcException>(() => new XrpcClient(shortHttp).ResolveHandleAsync("alice.test"));
        Assert.Equal(XrpcErrorKind.Timeout, ex.Kind);
        Assert.Equal(XrpcException.TimeoutError, ex.Error);
        Assert.True(ex.IsTransient);

        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var cancelled = await Record.ExceptionAsync(() => _client.ResolveHandleAsync("alice.test", cts.Token));
        Assert.IsAssignableFrom<OperationCanceledException>(cancelled);
    }

    [Theory]
    [InlineData("com.atproto")]
    [InlineData("../admin.x.y")]
    [InlineData("com.atproto.repo.createRecord?x=1")]
    [InlineData("com..atproto.x")]
    [InlineData("")]
    public async Task Invalid_nsid_is_rejected_before_sending(string nsid)
    {
        await Assert.ThrowsAsync<ArgumentException>(() => _client.QueryAsync(nsid, null, XrpcJsonContext.Default.ResolveHandleOutput));
        Assert.Empty(_server.Requests);
    }

    [Theory]
    [InlineData("")]
    [InlineData("two words")]
    [InlineData("line\nbreak")]
    public async Task Malformed_token_is_rejected_without_echoing_it(string token)
    {
        var ex = await Assert.ThrowsAnyAsync<ArgumentException>(() => _client.DeleteRecordAsync(
            new DeleteRecordInput { Repo = "did:plc:u", Collection = "a.b.c", Rkey = "k" }, token));
        if (token.Length > 0)
        {
            Assert.DoesNotContain(token, ex.Message);
        }
        Assert.Empty(_server.Requests);
    }

    [Fact]
    public async Task Service_path_prefix_and_WithService_are_honoured()
    {
        _server.Handler = (ctx, _) => LoopbackHttpServer.Json(ctx, 200, """{"did":"did:plc:x"}""");
        using var http = new HttpClient();
        var client = new XrpcClient(http);
        Assert.Null(client.Service);
        await Assert.ThrowsAsync<InvalidOperationException>(() => client.ResolveHandleAsync("a.test"));

        await client.WithService(new Uri(_server.BaseUri, "pds/prefix")).ResolveHandleAsync("a.test");
        await client.WithService(new Uri(_server.BaseUri, "other/")).ResolveHandleAsync("b.test");

        Assert.Equal(["/pds/prefix/xrpc/com.atproto.identity.resolveHandle", "/other/xrpc/com.atproto.identity.resolveHandle"],
            _server.Requests.Select(r => r.Path));
    }

    [Fact]
    public async Task Works_as_a_typed_client_from_IHttpClientFactory()
    {
        _server.Handler = (ctx, _) => LoopbackHttpServer.Json(ctx, 200, """{"did":"did:plc:typed"}""");
        var services = new ServiceCollection();
        services.AddSingleton(TimeProvider.System);
        services.AddHttpClient<XrpcClient>(c => c.BaseAddress = _server.BaseUri);
        await using var provider = services.BuildServiceProvider();

        var client = provider.GetRequiredService<XrpcClient>();
        var result = await client.ResolveHandleAsync("alice.test");

        Assert.Equal("did:plc:typed", result.Value.Did);
        Assert.Equal(_server.BaseUri, client.Service);
    }

    [Fact]
    public async Task Standard_resilience_handler_failures_map_to_xrpc_errors()
    {
        var calls = 0;
        _server.Handler = async (ctx, rec) =>
        {
            if (rec.Path.EndsWith("resolveHandle", StringComparison.Ordinal))
            {
                await Task.Delay(TimeSpan.FromSeconds(20), ctx.RequestAborted);
                return;
            }
            Interlocked.Increment(ref calls);
            await LoopbackHttpServer.Json(ctx, 503, """{"error":"Unavailable","message":"try later"}""");
        };
        var services = new ServiceCollection();
        services.AddHttpClient<XrpcClient>(c => c.BaseAddress = _server.BaseUri)
            .AddStandardResilienceHandler(o =>
            {
                o.AttemptTimeout.Timeout = TimeSpan.FromMilliseconds(200);
                o.TotalRequestTimeout.Timeout = TimeSpan.FromMilliseconds(1500);
                o.CircuitBreaker.SamplingDuration = TimeSpan.FromSeconds(5);
                o.Retry.MaxRetryAttempts = 1;
                o.Retry.Delay = TimeSpan.FromMilliseconds(10);
                o.Retry.UseJitter = false;
            });
        await using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<XrpcClient>();

        var timeout = await Assert.ThrowsAsync<XrpcException>(() => client.ResolveHandleAsync("alice.test"));
        Assert.Equal(XrpcErrorKind.Timeout, timeout.Kind);
        Assert.True(timeout.IsTransient);

        var unavailable = await Assert.ThrowsAsync<XrpcException>(() => client.RefreshSessionAsync(RefreshToken));
        Assert.Equal(XrpcErrorKind.ServerError, unavailable.Kind);
        Assert.Equal("Unavailable", unavailable.Error);
        Assert.Equal(2, calls); // the pipeline retried once; the last response is what the caller sees
        AssertNoSecrets(unavailable);
    }

    /// <summary>
    /// IHttpClientFactory's default logging redacts header values in the formatted message but keeps them raw in
    /// the structured state (which OpenTelemetry exports as attributes) at Trace level. Services must cap the
    /// <c>System.Net.Http.HttpClient</c> categories at Information (or remove the factory loggers) — this is that
    /// configuration, with a Trace-level default, proven to log requests without the token anywhere.
    /// </summary>
    [Fact]
    public async Task With_http_client_logs_capped_at_information_no_log_holds_the_token()
    {
        _server.Handler = (ctx, rec) => rec.Path.EndsWith("refreshSession", StringComparison.Ordinal)
            ? LoopbackHttpServer.Json(ctx, 400, """{"error":"ExpiredToken","message":"Token has expired"}""")
            : LoopbackHttpServer.Json(ctx, 200, """{"uri":"at://did:plc:u1/a.b.c/k","cid":"bafy"}""");
        var services = new ServiceCollection();
        services.AddLogging(b => b.SetMinimumLevel(LogLevel.Trace)
            .AddFilter("System.Net.Http.HttpClient", LogLevel.Information)
            .AddFakeLogging());
        services.AddHttpClient<XrpcClient>(c => c.BaseAddress = _server.BaseUri);
        await using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<XrpcClient>();

        await client.CreateRecordAsync(new CreateRecordInput { Repo = "did:plc:u1", Collection = "a.b.c", Rkey = "k", Record = XrpcRecord.FromJson("{}") }, AccessToken);
        await Assert.ThrowsAsync<XrpcException>(() => client.RefreshSessionAsync(RefreshToken));

        var logs = provider.GetFakeLogCollector().GetSnapshot();
        // Anti-vacuity: the factory's handlers did log both requests.
        Assert.Contains(logs, r => r.Message.Contains("createRecord", StringComparison.Ordinal));
        Assert.Contains(logs, r => r.Message.Contains("refreshSession", StringComparison.Ordinal));
        Assert.DoesNotContain(logs, r => r.Message.Contains("SECRET", StringComparison.Ordinal)
            || r.StructuredState?.Any(kv => kv.Value?.Contains("SECRET", StringComparison.Ordinal) == true) == true);
    }
}
