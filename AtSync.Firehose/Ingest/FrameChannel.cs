using System.Diagnostics.CodeAnalysis;
using System.Threading.Channels;

namespace AtSync.Firehose.Ingest;

/// <summary>
/// The bounded queue between a frame source and the processor, bounded twice: by frames and by bytes. A full channel
/// makes the reader wait (backpressure, nothing dropped). The byte bound is what keeps memory flat when frames are
/// large (a relay may send messages up to <see cref="FirehoseOptions.MaxMessageBytes"/>; a backlog of 2,048 frames of
/// 100 KB is 200 MB): a frame is queued while the queued bytes stay within the bound, or when the queue is empty (so
/// one frame larger than the bound still passes).
/// </summary>
public sealed class FrameChannel : Channel<ReceivedFrame>
{
    private readonly Channel<ReceivedFrame> _inner;
    private readonly long _maxBytes;
    private long _queuedBytes;
    private volatile bool _completed;
    private TaskCompletionSource _space = NewSignal();

    private FrameChannel(int capacity, long maxBytes)
    {
        _inner = Channel.CreateBounded<ReceivedFrame>(new BoundedChannelOptions(capacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
            SingleWriter = true,
            AllowSynchronousContinuations = false,
        });
        _maxBytes = maxBytes;
        Reader = new FrameReader(this);
        Writer = new FrameWriter(this);
    }

    /// <summary>Bytes of the frames queued now.</summary>
    public long QueuedBytes => Interlocked.Read(ref _queuedBytes);

    /// <param name="capacity">Frames queued at most.</param>
    /// <param name="maxBytes">Bytes queued at most (a single larger frame passes alone).</param>
    public static FrameChannel Create(int capacity, long maxBytes = long.MaxValue)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 1);
        return new FrameChannel(capacity, maxBytes);
    }

    /// <summary>Returns the buffers of frames still queued (shutdown).</summary>
    public static void Drain(ChannelReader<ReceivedFrame> reader)
    {
        while (reader.TryRead(out var frame)) frame.Dispose();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private bool Fits(int length)
    {
        var queued = Interlocked.Read(ref _queuedBytes);
        return queued == 0 || queued + length <= _maxBytes;
    }

    private void Taken(ReceivedFrame frame)
    {
        Interlocked.Add(ref _queuedBytes, -frame.Length);
        Interlocked.Exchange(ref _space, NewSignal()).TrySetResult();
    }

    private sealed class FrameWriter(FrameChannel channel) : ChannelWriter<ReceivedFrame>
    {
        public override bool TryComplete(Exception? error = null)
        {
            channel._completed = true;
            var completed = channel._inner.Writer.TryComplete(error);
            // A writer waiting for space wakes up and sees the channel closed.
            channel._space.TrySetResult();
            return completed;
        }

        public override bool TryWrite(ReceivedFrame item)
        {
            ArgumentNullException.ThrowIfNull(item);
            if (!channel.Fits(item.Length)) return false;
            Interlocked.Add(ref channel._queuedBytes, item.Length);
            if (channel._inner.Writer.TryWrite(item)) return true;
            Interlocked.Add(ref channel._queuedBytes, -item.Length);
            return false;
        }

        public override async ValueTask<bool> WaitToWriteAsync(CancellationToken cancellationToken = default)
        {
            while (true)
            {
                // The signal is read before the bytes: a frame taken in between completes this very signal.
                var space = Volatile.Read(ref channel._space);
                if (!await channel._inner.Writer.WaitToWriteAsync(cancellationToken) || channel._completed) return false;
                if (Interlocked.Read(ref channel._queuedBytes) < channel._maxBytes) return true;
                await space.Task.WaitAsync(cancellationToken);
            }
        }

        public override async ValueTask WriteAsync(ReceivedFrame item, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(item);
            while (true)
            {
                var space = Volatile.Read(ref channel._space);
                if (channel.Fits(item.Length))
                {
                    Interlocked.Add(ref channel._queuedBytes, item.Length);
                    try
                    {
                        await channel._inner.Writer.WriteAsync(item, cancellationToken);
                        return;
                    }
                    catch
                    {
                        Interlocked.Add(ref channel._queuedBytes, -item.Length);
                        throw;
                    }
                }
                if (channel._completed) throw new ChannelClosedException();
                await space.Task.WaitAsync(cancellationToken);
            }
        }
    }

    private sealed class FrameReader(FrameChannel channel) : ChannelReader<ReceivedFrame>
    {
        public override Task Completion => channel._inner.Reader.Completion;

        public override bool CanCount => true;

        public override int Count => channel._inner.Reader.Count;

        public override bool TryRead([MaybeNullWhen(false)] out ReceivedFrame item)
        {
            if (!channel._inner.Reader.TryRead(out item)) return false;
            channel.Taken(item);
            return true;
        }

        public override ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default) =>
            channel._inner.Reader.WaitToReadAsync(cancellationToken);
    }
}
