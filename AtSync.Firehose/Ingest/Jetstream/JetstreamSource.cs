using System.Threading.Channels;

namespace AtSync.Firehose.Ingest.Jetstream;

/// <summary>
/// The Jetstream <c>/subscribe</c> WebSocket: the relay's connection loop (<see cref="WebSocketFrameSource"/>: backoff with
/// jitter, <c>Retry-After</c>, idle timeout, bounded messages, backpressure) with a cursor in microseconds, moved back by
/// <see cref="JetstreamOptions.CursorRewind"/> on every (re)connect. Frames are JSON text, or zstd with Jetstream's dictionary
/// (<see cref="JetstreamDictionary"/>, undone by the decoder).
/// </summary>
public sealed class JetstreamSource(WebSocketFrameSource socket, TimeSpan rewind) : IFrameSource
{
    public string Kind => "jetstream";

    public Task RunAsync(ChannelWriter<ReceivedFrame> output, Func<long?> resumeCursor, CancellationToken cancellationToken) =>
        socket.RunAsync(output, () => Rewound(resumeCursor(), rewind), cancellationToken);

    /// <summary>The cursor to ask for: the last processed <c>time_us</c> minus the rewind (null: live).</summary>
    public static long? Rewound(long? cursor, TimeSpan rewind) =>
        cursor is { } value ? Math.Max(1, value - (rewind.Ticks / TimeSpan.TicksPerMicrosecond)) : null;
}
