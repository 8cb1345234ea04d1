namespace AtSync.Firehose.Events;

/// <summary>Turns raw frames into <see cref="StreamEvent"/>s. Throws <see cref="StreamDecodeException"/> on bad input.</summary>
public interface IStreamDecoder
{
    /// <summary>A <c>com.atproto.sync.subscribeRepos</c> frame.</summary>
    StreamEvent DecodeRepoFrame(ReadOnlyMemory<byte> frame);

    /// <summary>A <c>com.atproto.label.subscribeLabels</c> frame.</summary>
    StreamEvent DecodeLabelFrame(ReadOnlyMemory<byte> frame);
}

/// <summary>A frame that is not a valid event-stream message; counted and skipped, never fatal.</summary>
public sealed class StreamDecodeException(string message, Exception? inner = null) : Exception(message, inner);
