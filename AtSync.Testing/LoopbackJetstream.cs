using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ZstdSharp;

namespace AtSync.Testing;

/// <summary>
/// A Jetstream v1 on Kestrel at 127.0.0.1:0: <c>/subscribe</c> over a real WebSocket, serving its events (JSON exactly as
/// given, as production serves <c>testdata/firehose/expected_v1.jsonl</c>) the way bluesky-social/jetstream's
/// <c>internal/subscribe</c> does for v1: <c>wantedCollections</c> (exact NSIDs or <c>prefix.*</c>, at most 100; identity
/// and account events always pass), <c>compress=true</c> or <c>Socket-Encoding: zstd</c> → binary frames, each one zstd
/// frame made with the given dictionary (otherwise text frames), <c>cursor</c> in µs → replay from the first event whose
/// <c>time_us</c> is at or after it, then live; no cursor → live only. Records every connection's query and counts the
/// bytes it sends (what a consumer pays on the wire).
/// </summary>
public sealed class LoopbackJetstream : IAsyncDisposable
{
    public const int MaxWantedCollections = 100;

    private readonly WebApplication _app;
    private readonly byte[] _dictionary;
    private readonly List<Event> _events = [];
    private readonly Lock _lock = new();
    private readonly ConcurrentQueue<string> _queries = new();
    private readonly CancellationTokenSource _stopping = new();
    private TaskCompletionSource _published = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private CancellationTokenSource _drop = new();
    private long _bytesSent;
    private int _subscribers;
    private long _eventsSent;

    private sealed record Event(long TimeUs, string Kind, string? Collection, byte[] Json);

    private LoopbackJetstream(WebApplication app, byte[] dictionary)
    {
        _app = app;
        _dictionary = dictionary;
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Url = new Uri(new Uri(address.Replace("http://", "ws://", StringComparison.Ordinal)), "/subscribe");
    }

    public Uri Url { get; }

    /// <summary>The query string of every connection, in order.</summary>
    public IReadOnlyList<string> Queries => [.. _queries];

    /// <summary>WebSocket payload bytes sent so far (compressed when the client asked for it).</summary>
    public long BytesSent => Interlocked.Read(ref _bytesSent);

    public long EventsSent => Interlocked.Read(ref _eventsSent);

    /// <summary>Connections so far whose starting position was set (events published after that reach them).</summary>
    public int Subscriptions => Volatile.Read(ref _subscribers);

    /// <summary>Waits until more than <paramref name="after"/> subscriptions were made.</summary>
    public async Task WaitForSubscriptionAsync(int after, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (Subscriptions <= after)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("no client subscribed to the loopback Jetstream");
            await Task.Delay(20);
        }
    }

    /// <summary>When true the server ignores <c>wantedCollections</c> (a misbehaving Jetstream: the client must filter).</summary>
    public bool IgnoreFilter { get; set; }

    /// <summary>Starts it; <paramref name="dictionary"/> is Jetstream v1's zstd dictionary (for <c>compress=true</c>).</summary>
    public static async Task<LoopbackJetstream> StartAsync(byte[] dictionary)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.UseWebSockets();
        LoopbackJetstream? self = null;
        app.Map("/subscribe", context => self!.HandleAsync(context));
        await app.StartAsync();
        self = new LoopbackJetstream(app, dictionary);
        return self;
    }

    /// <summary>Appends events (JSON objects with <c>time_us</c> and <c>kind</c>), in serving order; connected clients get them too.</summary>
    public void Publish(IEnumerable<byte[]> events)
    {
        var parsed = events.Select(Parse).ToList();
        lock (_lock)
        {
            _events.AddRange(parsed);
            var published = _published;
            _published = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            published.TrySetResult();
        }
    }

    /// <summary>Aborts every open connection (a Jetstream restart or a network cut).</summary>
    public void DropConnections()
    {
        var drop = Interlocked.Exchange(ref _drop, new CancellationTokenSource());
        drop.Cancel();
        drop.Dispose();
    }

    private static Event Parse(byte[] json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        var kind = root.GetProperty("kind").GetString()!;
        var collection = kind == "commit" ? root.GetProperty("commit").GetProperty("collection").GetString() : null;
        return new Event(root.GetProperty("time_us").GetInt64(), kind, collection, json);
    }

    private async Task HandleAsync(HttpContext context)
    {
        _queries.Enqueue(context.Request.QueryString.Value ?? "");
        var query = context.Request.Query;
        var wanted = query["wantedCollections"].Where(v => !string.IsNullOrEmpty(v)).Select(v => v!).Distinct(StringComparer.Ordinal).ToList();
        if (wanted.Count > MaxWantedCollections)
        {
            context.Response.StatusCode = 400;
            await context.Response.WriteAsync($"too many wanted collections (at most {MaxWantedCollections})");
            return;
        }
        var compress = query["compress"] == "true" || context.Request.Headers["Socket-Encoding"].ToString().Contains("zstd", StringComparison.Ordinal);
        long? cursor = long.TryParse(query["cursor"], out var c) ? c : null;
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = 400;
            return;
        }
        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        var drop = Volatile.Read(ref _drop);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token, drop.Token);
        var ct = linked.Token;
        using var compressor = compress ? new Compressor(3) : null;
        compressor?.LoadDictionary(_dictionary);
        try
        {
            int position;
            lock (_lock)
            {
                position = cursor is { } from ? _events.FindIndex(e => e.TimeUs >= from) : _events.Count;
                if (position < 0) position = _events.Count;
            }
            Interlocked.Increment(ref _subscribers);
            while (!ct.IsCancellationRequested)
            {
                Event[] pending;
                Task published;
                lock (_lock)
                {
                    pending = [.. _events.Skip(position)];
                    published = _published.Task;
                }
                foreach (var item in pending)
                {
                    position++;
                    if (!IgnoreFilter && !Wants(wanted, item)) continue;
                    var payload = compressor is null ? item.Json : compressor.Wrap(item.Json).ToArray();
                    await socket.SendAsync(payload, compressor is null ? WebSocketMessageType.Text : WebSocketMessageType.Binary, true, ct);
                    Interlocked.Add(ref _bytesSent, payload.Length);
                    Interlocked.Increment(ref _eventsSent);
                }
                await published.WaitAsync(ct);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException or ConnectionAbortedException)
        {
            if (drop.IsCancellationRequested) context.Abort();
        }
    }

    /// <summary>v1's filter: identity and account always; a commit when no filter is given, or its collection matches one.</summary>
    private static bool Wants(List<string> wanted, Event item) =>
        item.Kind != "commit" || wanted.Count == 0 || item.Collection is null or "" || wanted.Any(w =>
            w.EndsWith(".*", StringComparison.Ordinal)
                ? item.Collection.StartsWith(w[..^1], StringComparison.Ordinal)
                : item.Collection == w);

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        await _app.StopAsync(timeout.Token);
        await _app.DisposeAsync();
        _stopping.Dispose();
        _drop.Dispose();
    }
}
