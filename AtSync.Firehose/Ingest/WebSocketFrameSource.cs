using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.WebSockets;
using System.Threading.Channels;
using AtSync.Core.Resilience;
using Microsoft.Extensions.Logging;

namespace AtSync.Firehose.Ingest;

/// <summary>
/// An event stream over a WebSocket (the relay's subscribeRepos or the labeler's subscribeLabels): connects to
/// <c>url?cursor=N</c>, reads whole messages into pooled buffers and writes them to the channel (waiting when it is
/// full). Reconnects forever: exponential backoff with jitter, <c>Retry-After</c> honoured on HTTP 429/503,
/// a stream silent for <see cref="FirehoseOptions.IdleTimeout"/> is reopened. Every attempt is counted.
/// </summary>
public sealed partial class WebSocketFrameSource(
    Uri endpoint,
    StreamState state,
    FirehoseOptions options,
    FirehoseMetrics metrics,
    TimeProvider time,
    ILogger logger,
    Func<ClientWebSocket>? socketFactory = null) : IFrameSource
{
    private const int InitialBufferSize = 16 * 1024;

    public string Kind => state.Name;

    /// <summary>The stream URL with <c>cursor</c> set (or left out), other query parameters kept.</summary>
    public static Uri WithCursor(Uri endpoint, long? cursor)
    {
        var builder = new UriBuilder(endpoint);
        var parts = builder.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Where(p => !p.StartsWith("cursor=", StringComparison.Ordinal) && p != "cursor")
            .ToList();
        if (cursor is { } value) parts.Add("cursor=" + value.ToString(CultureInfo.InvariantCulture));
        builder.Query = string.Join('&', parts);
        return builder.Uri;
    }

    public async Task RunAsync(ChannelWriter<ReceivedFrame> output, Func<long?> resumeCursor, CancellationToken cancellationToken)
    {
        var backoff = new Backoff(options.ReconnectInitialDelay, options.ReconnectMaxDelay, jitter: 0.5);
        var first = true;
        while (!cancellationToken.IsCancellationRequested)
        {
            if (!first) metrics.Reconnect(state.Name);
            first = false;
            var outcome = await RunConnectionAsync(output, resumeCursor(), cancellationToken);
            if (cancellationToken.IsCancellationRequested) break;
            if (outcome.Stable) backoff.Reset();
            var delay = backoff.Next();
            if (outcome.RetryAfter is { } retryAfter && retryAfter > delay) delay = retryAfter;
            LogReconnecting(state.Name, outcome.Reason, delay.TotalSeconds, backoff.Attempt);
            try
            {
                await Task.Delay(delay, time, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        state.MarkDisconnected(null);
    }

    private readonly record struct Outcome(string Reason, bool Stable, TimeSpan? RetryAfter);

    private async Task<Outcome> RunConnectionAsync(ChannelWriter<ReceivedFrame> output, long? cursor, CancellationToken cancellationToken)
    {
        using var socket = socketFactory?.Invoke() ?? new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        socket.Options.KeepAliveInterval = TimeSpan.FromSeconds(20);
        var url = WithCursor(endpoint, cursor);
        try
        {
            using var connectTimeout = new CancellationTokenSource(options.ConnectTimeout, time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, connectTimeout.Token);
            await socket.ConnectAsync(url, linked.Token);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return new Outcome("stopping", false, null);
        }
        catch (Exception ex) when (ex is WebSocketException or HttpRequestException or OperationCanceledException or IOException)
        {
            var status = socket.HttpStatusCode;
            var reason = status != 0 ? $"HTTP {(int)status} on connect" : $"connect failed: {ConnectFailure.Cause(ex, options.ConnectTimeout)}";
            LogConnectFailed(state.Name, ConnectFailure.Describe(url), reason);
            state.MarkDisconnected(reason);
            var retryAfter = status is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable || (int)status >= 500
                ? RetryAfter(socket.HttpResponseHeaders, time.GetUtcNow())
                : null;
            return new Outcome(reason, false, retryAfter);
        }

        var connectedAt = time.GetUtcNow();
        state.MarkConnected(connectedAt);
        LogConnected(state.Name, cursor?.ToString(CultureInfo.InvariantCulture) ?? "live");
        var messages = 0L;
        string reasonText;
        using var idle = new CancellationTokenSource(options.IdleTimeout, time);
        using var readToken = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, idle.Token);
        try
        {
            while (true)
            {
                var frame = await ReceiveMessageAsync(socket, readToken.Token);
                if (frame is null)
                {
                    reasonText = socket.CloseStatus is { } closeStatus
                        ? $"closed by peer ({(int)closeStatus})"
                        : "closed by peer";
                    break;
                }
                messages++;
                idle.CancelAfter(options.IdleTimeout);
                state.MarkMessage(time.GetUtcNow());
                if (frame.Length == 0)
                {
                    frame.Dispose();
                    continue;
                }
                try
                {
                    await output.WriteAsync(frame, cancellationToken);
                }
                catch
                {
                    frame.Dispose();
                    throw;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            reasonText = "stopping";
            await CloseQuietlyAsync(socket);
        }
        catch (OperationCanceledException) when (idle.IsCancellationRequested)
        {
            reasonText = $"no message for {options.IdleTimeout.TotalSeconds:0.#} s";
            socket.Abort();
        }
        catch (ChannelClosedException)
        {
            reasonText = "processor stopped";
            socket.Abort();
        }
        catch (Exception ex) when (ex is WebSocketException or IOException)
        {
            reasonText = $"connection lost ({ex.GetType().Name})";
        }
        var stable = messages > 0 && time.GetUtcNow() - connectedAt >= options.StableConnection;
        state.MarkDisconnected(reasonText == "stopping" ? null : reasonText);
        return new Outcome(reasonText, stable, null);
    }

    /// <summary>Reads one whole message; null when the peer closed. Oversized messages are discarded and counted.</summary>
    private async Task<ReceivedFrame?> ReceiveMessageAsync(ClientWebSocket socket, CancellationToken cancellationToken)
    {
        while (true)
        {
            var buffer = ArrayPool<byte>.Shared.Rent(InitialBufferSize);
            var length = 0;
            var oversized = false;
            try
            {
                while (true)
                {
                    if (length == buffer.Length)
                    {
                        if (buffer.Length >= options.MaxMessageBytes)
                        {
                            oversized = true;
                            length = 0;
                        }
                        else
                        {
                            var bigger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, options.MaxMessageBytes));
                            buffer.AsSpan(0, length).CopyTo(bigger);
                            ArrayPool<byte>.Shared.Return(buffer);
                            buffer = bigger;
                        }
                    }
                    var result = await socket.ReceiveAsync(buffer.AsMemory(length), cancellationToken);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                        await CloseQuietlyAsync(socket);
                        return null;
                    }
                    length += result.Count;
                    if (result.EndOfMessage) break;
                }
            }
            catch
            {
                ArrayPool<byte>.Shared.Return(buffer);
                throw;
            }
            if (oversized)
            {
                ArrayPool<byte>.Shared.Return(buffer);
                metrics.DecodeError(state.Name);
                LogOversized(state.Name, options.MaxMessageBytes);
                continue;
            }
            if (buffer.Length > 4 * Math.Max(length, 1024))
            {
                // Most frames are ~1 KB: keep a right-sized buffer queued, not the 16 KB receive buffer.
                var frame = ReceivedFrame.Copy(buffer.AsSpan(0, length), time.GetTimestamp());
                ArrayPool<byte>.Shared.Return(buffer);
                return frame;
            }
            return ReceivedFrame.FromRented(buffer, length, time.GetTimestamp());
        }
    }

    private static async Task CloseQuietlyAsync(ClientWebSocket socket)
    {
        try
        {
            if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            socket.Abort();
        }
    }

    /// <summary>Reads <c>Retry-After</c> (delta-seconds or an HTTP date); null when absent or unreadable. Capped at 10 minutes.</summary>
    public static TimeSpan? RetryAfter(IReadOnlyDictionary<string, IEnumerable<string>>? headers, DateTimeOffset now)
    {
        if (headers is null) return null;
        var value = headers.FirstOrDefault(h => string.Equals(h.Key, "Retry-After", StringComparison.OrdinalIgnoreCase)).Value?.FirstOrDefault();
        if (string.IsNullOrWhiteSpace(value)) return null;
        TimeSpan? delay = null;
        if (long.TryParse(value.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            delay = TimeSpan.FromSeconds(seconds);
        }
        else if (DateTimeOffset.TryParseExact(value.Trim(), "r", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date))
        {
            delay = date - now;
        }
        if (delay is null) return null;
        var max = TimeSpan.FromMinutes(10);
        return delay < TimeSpan.Zero ? TimeSpan.Zero : delay > max ? max : delay;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stream {Stream} could not connect to {Url}: {Reason}")]
    private partial void LogConnectFailed(string stream, string url, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stream {Stream} connected (cursor {Cursor})")]
    private partial void LogConnected(string stream, string cursor);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stream {Stream} disconnected: {Reason}; reconnecting in {DelaySeconds:0.##} s (attempt {Attempt})")]
    private partial void LogReconnecting(string stream, string reason, double delaySeconds, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stream {Stream} sent a message over {MaxBytes} bytes; discarded")]
    private partial void LogOversized(string stream, int maxBytes);
}
