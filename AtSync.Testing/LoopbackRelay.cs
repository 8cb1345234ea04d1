using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AtSync.Testing;

/// <summary>What one connection to the <see cref="LoopbackRelay"/> does.</summary>
public sealed record RelayBehavior
{
    /// <summary>Answer the upgrade request with this HTTP status instead of a WebSocket.</summary>
    public HttpStatusCode? Reject { get; init; }

    public string? RetryAfter { get; init; }

    /// <summary>Frames sent first (info, error, garbage…), before the stream.</summary>
    public IReadOnlyList<byte[]> Prelude { get; init; } = [];

    /// <summary>Close (normally) right after the prelude.</summary>
    public bool CloseAfterPrelude { get; init; }

    /// <summary>Abort the TCP connection after this many stream frames.</summary>
    public int? DropAfter { get; init; }

    /// <summary>Stop sending (but keep the socket open) after this many stream frames.</summary>
    public int? StallAfter { get; init; }
}

/// <summary>
/// A relay (or labeler) on Kestrel at 127.0.0.1:0 speaking the event-stream wire format over a real WebSocket:
/// serves its sequenced frames after the request's <c>cursor</c> (all of them without one), then waits for more
/// (<see cref="Publish"/>). Each connection follows the next scripted <see cref="RelayBehavior"/> (the default serves
/// normally). Records the cursor of every connection attempt. Used by the tests and by <c>bench-firehose</c>
/// (<see cref="Rate"/> paces it, <see cref="FrameSent"/> reports each frame sent).
/// </summary>
public sealed class LoopbackRelay : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly List<(long Seq, byte[] Frame)> _frames = [];
    private readonly Lock _lock = new();
    private readonly ConcurrentQueue<RelayBehavior> _script = new();
    private readonly ConcurrentQueue<string?> _cursors = new();
    private readonly CancellationTokenSource _stopping = new();
    private TaskCompletionSource _published = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _connections;

    private LoopbackRelay(WebApplication app, string path)
    {
        _app = app;
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Url = new Uri(new Uri(address.Replace("http://", "ws://", StringComparison.Ordinal)), path);
    }

    public Uri Url { get; }

    /// <summary>The <c>cursor</c> query value of each connection attempt, in order (null: none given).</summary>
    public IReadOnlyList<string?> Cursors => [.. _cursors];

    public int Connections => Volatile.Read(ref _connections);

    /// <summary>While set, every connection attempt is refused with this status.</summary>
    public HttpStatusCode? RejectAll { get; set; }

    /// <summary>Frames per second one connection is sent at most (0: as fast as the reader takes them).</summary>
    public double Rate { get; set; }

    /// <summary>Called with each stream frame's seq right after it was sent.</summary>
    public Action<long>? FrameSent { get; set; }

    public static async Task<LoopbackRelay> StartAsync(string path)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.UseWebSockets();
        LoopbackRelay? self = null;
        app.Map(path, context => self!.HandleAsync(context));
        await app.StartAsync();
        self = new LoopbackRelay(app, path);
        return self;
    }

    /// <summary>Behaviours for the next connections, in order.</summary>
    public void Script(params RelayBehavior[] behaviors)
    {
        foreach (var behavior in behaviors) _script.Enqueue(behavior);
    }

    /// <summary>Adds frames to the stream (served to connected clients too).</summary>
    public void Publish(IEnumerable<(long Seq, byte[] Frame)> frames)
    {
        lock (_lock)
        {
            _frames.AddRange(frames);
            _frames.Sort((a, b) => a.Seq.CompareTo(b.Seq));
            var published = _published;
            _published = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            published.TrySetResult();
        }
    }

    public void Publish(long seq, byte[] frame) => Publish([(seq, frame)]);

    private async Task HandleAsync(HttpContext context)
    {
        Interlocked.Increment(ref _connections);
        var cursorText = context.Request.Query["cursor"].FirstOrDefault();
        _cursors.Enqueue(cursorText);
        var behavior = RejectAll is { } refusal ? new RelayBehavior { Reject = refusal }
            : _script.TryDequeue(out var next) ? next : new RelayBehavior();
        if (behavior.Reject is { } status)
        {
            context.Response.StatusCode = (int)status;
            if (behavior.RetryAfter is not null) context.Response.Headers.RetryAfter = behavior.RetryAfter;
            return;
        }
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = 400;
            return;
        }
        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token);
        var ct = linked.Token;
        try
        {
            foreach (var frame in behavior.Prelude)
            {
                await socket.SendAsync(frame, WebSocketMessageType.Binary, true, ct);
            }
            if (behavior.CloseAfterPrelude)
            {
                await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", ct);
                return;
            }
            var position = long.TryParse(cursorText, out var cursor) ? cursor : long.MinValue;
            var sent = 0;
            var paced = Stopwatch.StartNew();
            while (!ct.IsCancellationRequested)
            {
                (long Seq, byte[] Frame)[] pending;
                Task published;
                lock (_lock)
                {
                    pending = [.. _frames.Where(f => f.Seq > position)];
                    published = _published.Task;
                }
                foreach (var (seq, frame) in pending)
                {
                    if (behavior.DropAfter is { } drop && sent >= drop)
                    {
                        // Let the client read what was sent (an abort resets the connection and can discard unread bytes).
                        await Task.Delay(300, ct);
                        context.Abort();
                        return;
                    }
                    if (behavior.StallAfter is { } stall && sent >= stall)
                    {
                        await Task.Delay(Timeout.Infinite, ct);
                    }
                    if (Rate > 0)
                    {
                        var due = TimeSpan.FromSeconds(sent / Rate);
                        if (due > paced.Elapsed + TimeSpan.FromMilliseconds(2)) await Task.Delay(due - paced.Elapsed, ct);
                    }
                    await socket.SendAsync(frame, WebSocketMessageType.Binary, true, ct);
                    FrameSent?.Invoke(seq);
                    position = seq;
                    sent++;
                }
                await published.WaitAsync(ct);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException or ConnectionAbortedException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        await _app.StopAsync(timeout.Token);
        await _app.DisposeAsync();
        _stopping.Dispose();
    }
}
