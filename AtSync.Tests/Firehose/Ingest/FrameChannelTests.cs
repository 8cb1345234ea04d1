using AtSync.Firehose.Ingest;

namespace AtSync.Tests.Firehose.Ingest;

/// <summary>The queue between a source and the processor is bounded by bytes as well as by frames.</summary>
public sealed class FrameChannelTests
{
    private static ReceivedFrame Frame(int length) => ReceivedFrame.Copy(new byte[length], 0);

    [Fact]
    public async Task A_writer_waits_while_the_queued_bytes_would_pass_the_bound_and_goes_on_when_a_frame_is_taken()
    {
        var channel = FrameChannel.Create(capacity: 100, maxBytes: 10_000);
        await channel.Writer.WriteAsync(Frame(4_000));
        await channel.Writer.WriteAsync(Frame(4_000));
        Assert.Equal(8_000, channel.QueuedBytes);
        Assert.False(channel.Writer.TryWrite(Frame(4_000)));

        var third = channel.Writer.WriteAsync(Frame(4_000)).AsTask();
        await Task.Delay(200);
        Assert.False(third.IsCompleted, "a frame past the byte bound was queued");
        Assert.Equal(2, channel.Reader.Count);

        Assert.True(channel.Reader.TryRead(out var first));
        first.Dispose();
        await third.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(8_000, channel.QueuedBytes);
        Assert.Equal(2, channel.Reader.Count);
    }

    [Fact]
    public async Task A_frame_larger_than_the_bound_passes_alone()
    {
        var channel = FrameChannel.Create(capacity: 100, maxBytes: 10_000);
        await channel.Writer.WriteAsync(Frame(50_000)).AsTask().WaitAsync(TimeSpan.FromSeconds(5));
        var next = channel.Writer.WriteAsync(Frame(10)).AsTask();
        await Task.Delay(100);
        Assert.False(next.IsCompleted);
        Assert.True(channel.Reader.TryRead(out var big));
        Assert.Equal(50_000, big.Length);
        await next.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(10, channel.QueuedBytes);
    }

    [Fact]
    public async Task The_frame_bound_still_holds_and_completing_the_channel_releases_a_waiting_writer()
    {
        var channel = FrameChannel.Create(capacity: 2, maxBytes: 1_000_000);
        await channel.Writer.WriteAsync(Frame(10));
        await channel.Writer.WriteAsync(Frame(10));
        var third = channel.Writer.WriteAsync(Frame(10)).AsTask();
        await Task.Delay(100);
        Assert.False(third.IsCompleted, "the frame bound was passed");

        var bytesBound = FrameChannel.Create(capacity: 100, maxBytes: 100);
        await bytesBound.Writer.WriteAsync(Frame(90));
        var waiting = bytesBound.Writer.WriteAsync(Frame(90)).AsTask();
        await Task.Delay(100);
        Assert.True(bytesBound.Writer.TryComplete());
        await Assert.ThrowsAsync<System.Threading.Channels.ChannelClosedException>(() => waiting.WaitAsync(TimeSpan.FromSeconds(5)));
        FrameChannel.Drain(bytesBound.Reader);
        Assert.Equal(0, bytesBound.QueuedBytes);
    }
}
