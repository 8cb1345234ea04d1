using System.Threading.Channels;

namespace AtSync.Firehose.Ingest;

/// <summary>
/// Where frames come from: the relay's WebSocket or a capture file. A source writes whole frames into the bounded
/// channel (waiting when it is full: backpressure, nothing dropped) until it is done or cancelled.
/// </summary>
public interface IFrameSource
{
    /// <summary>Human-readable kind for logs ("relay", "replay").</summary>
    string Kind { get; }

    /// <summary>
    /// Produces frames. <paramref name="resumeCursor"/> is asked at every (re)connect for the last processed seq
    /// (null: none yet, start live). Returns when the source is exhausted (a capture file's end) or cancelled.
    /// </summary>
    Task RunAsync(ChannelWriter<ReceivedFrame> output, Func<long?> resumeCursor, CancellationToken cancellationToken);
}
