using System.Threading.Channels;

namespace AtSync.Firehose.Ingest;

/// <summary>The bounded queue between a frame source and the processor: a full channel makes the reader wait.</summary>
public static class FrameChannel
{
    public static Channel<ReceivedFrame> Create(int capacity) =>
        Channel.CreateBounded<ReceivedFrame>(new BoundedChannelOptions(capacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
            SingleWriter = true,
            AllowSynchronousContinuations = false,
        });

    /// <summary>Returns the buffers of frames still queued (shutdown).</summary>
    public static void Drain(ChannelReader<ReceivedFrame> reader)
    {
        while (reader.TryRead(out var frame)) frame.Dispose();
    }
}
