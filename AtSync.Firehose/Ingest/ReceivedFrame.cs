using System.Buffers;

namespace AtSync.Firehose.Ingest;

/// <summary>
/// One whole event-stream message as it came off the wire (or out of a capture file), in a buffer rented from
/// <see cref="ArrayPool{T}.Shared"/>. The consumer owns it after reading it from the channel and must call
/// <see cref="Dispose"/> once done with <see cref="Bytes"/>.
/// </summary>
public sealed class ReceivedFrame : IDisposable
{
    private byte[]? _buffer;

    private ReceivedFrame(byte[] buffer, int length, long receivedTimestamp)
    {
        _buffer = buffer;
        Length = length;
        ReceivedTimestamp = receivedTimestamp;
    }

    public int Length { get; }

    /// <summary><see cref="TimeProvider.GetTimestamp"/> when the last byte arrived: the start of frame-to-commit latency.</summary>
    public long ReceivedTimestamp { get; }

    public ReadOnlyMemory<byte> Bytes => _buffer is { } buffer
        ? buffer.AsMemory(0, Length)
        : throw new ObjectDisposedException(nameof(ReceivedFrame));

    /// <summary>Takes ownership of <paramref name="rentedBuffer"/> (rented from the shared pool).</summary>
    public static ReceivedFrame FromRented(byte[] rentedBuffer, int length, long receivedTimestamp) =>
        new(rentedBuffer, length, receivedTimestamp);

    public static ReceivedFrame Copy(ReadOnlySpan<byte> bytes, long receivedTimestamp)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(bytes.Length, 1));
        bytes.CopyTo(buffer);
        return new ReceivedFrame(buffer, bytes.Length, receivedTimestamp);
    }

    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, null);
        if (buffer is not null) ArrayPool<byte>.Shared.Return(buffer);
    }
}
