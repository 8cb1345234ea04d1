using System.Buffers;
using System.Buffers.Binary;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using ZstdSharp;

namespace AtSync.Firehose.Ingest;

/// <summary>
/// Frames from a capture file instead of a socket: records of <c>[uint32 little-endian length][frame bytes]</c>,
/// the file optionally zstd-compressed (recognised by its magic number). For backfills, incident replays and tests.
/// Events at or below the stored cursor are skipped by the processor, so a replay resumes where it stopped.
/// </summary>
/// <remarks>
/// A record whose length prefix is corrupt (over <see cref="FirehoseOptions.MaxMessageBytes"/>) or that the file ends
/// inside stops the replay, since nothing after it can be framed: it is counted (<c>atsync.firehose.decode_errors</c>),
/// logged with the record number and byte offset, and reported by the stream's health check.
/// </remarks>
public sealed partial class CaptureFileSource(
    string path, StreamState state, FirehoseOptions options, TimeProvider time, ILogger logger, FirehoseMetrics? metrics = null) : IFrameSource
{
    private static ReadOnlySpan<byte> ZstdMagic => [0x28, 0xB5, 0x2F, 0xFD];

    public string Kind => "replay";

    /// <summary>Frames written so far (for logs and tests).</summary>
    public long FramesRead { get; private set; }

    public static Stream Open(string path)
    {
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan | FileOptions.Asynchronous);
        Span<byte> magic = stackalloc byte[4];
        var read = file.ReadAtLeast(magic, 4, throwOnEndOfStream: false);
        file.Position = 0;
        if (read == 4 && magic.SequenceEqual(ZstdMagic))
        {
            return new BufferedStream(new DecompressionStream(file), 1 << 16);
        }
        return file;
    }

    public async Task RunAsync(ChannelWriter<ReceivedFrame> output, Func<long?> resumeCursor, CancellationToken cancellationToken)
    {
        state.NoSocketReason = "replaying a capture file";
        await using var stream = Open(path);
        state.MarkConnected(time.GetUtcNow());
        LogStarted(path, resumeCursor()?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none");
        var header = new byte[4];
        long offset = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            var got = await stream.ReadAtLeastAsync(header, 4, throwOnEndOfStream: false, cancellationToken);
            if (got == 0) break;
            if (got < 4)
            {
                Corrupt($"ends inside the length prefix of record {FramesRead + 1} (byte {offset})");
                LogTruncated(path, FramesRead, offset);
                break;
            }
            var length = BinaryPrimitives.ReadUInt32LittleEndian(header);
            if (length > (uint)options.MaxMessageBytes)
            {
                Corrupt($"record {FramesRead + 1} (byte {offset}) declares {length} bytes, over the {options.MaxMessageBytes}-byte limit");
                LogOversized(path, FramesRead + 1, offset, length);
                break;
            }
            var buffer = ArrayPool<byte>.Shared.Rent(Math.Max((int)length, 1));
            var body = await stream.ReadAtLeastAsync(buffer.AsMemory(0, (int)length), (int)length, throwOnEndOfStream: false, cancellationToken);
            if (body < length)
            {
                ArrayPool<byte>.Shared.Return(buffer);
                Corrupt($"ends inside record {FramesRead + 1} (byte {offset}: {body} of {length} bytes)");
                LogTruncated(path, FramesRead, offset);
                break;
            }
            offset += 4 + length;
            var frame = ReceivedFrame.FromRented(buffer, (int)length, time.GetTimestamp());
            state.MarkMessage(time.GetUtcNow());
            try
            {
                await output.WriteAsync(frame, cancellationToken);
            }
            catch
            {
                frame.Dispose();
                throw;
            }
            FramesRead++;
        }
        LogFinished(path, FramesRead);
    }

    private void Corrupt(string what)
    {
        metrics?.DecodeError(state.Name);
        state.ReportProblem($"replay stopped: the capture file {what}");
    }

    /// <summary>Writes frames in the capture format (uncompressed, or zstd when <paramref name="compress"/>).</summary>
    public static async Task WriteAsync(string path, IEnumerable<ReadOnlyMemory<byte>> frames, bool compress, CancellationToken cancellationToken = default)
    {
        await using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);
        await using var stream = compress ? new CompressionStream(file, 3) : (Stream)file;
        var header = new byte[4];
        foreach (var frame in frames)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)frame.Length);
            await stream.WriteAsync(header, cancellationToken);
            await stream.WriteAsync(frame, cancellationToken);
        }
    }

    /// <summary>Reads every frame of a capture file into memory (tests, tools).</summary>
    public static List<byte[]> ReadAll(string path)
    {
        using var stream = Open(path);
        var frames = new List<byte[]>();
        Span<byte> header = stackalloc byte[4];
        while (stream.ReadAtLeast(header, 4, throwOnEndOfStream: false) == 4)
        {
            var frame = new byte[BinaryPrimitives.ReadUInt32LittleEndian(header)];
            stream.ReadExactly(frame);
            frames.Add(frame);
        }
        return frames;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Replaying capture {Path} (stored cursor {Cursor})")]
    private partial void LogStarted(string path, string cursor);

    [LoggerMessage(Level = LogLevel.Information, Message = "Capture {Path} finished after {Frames} frames")]
    private partial void LogFinished(string path, long frames);

    [LoggerMessage(Level = LogLevel.Error, Message = "Capture {Path} ends inside a record after {Frames} frames (byte {Offset}); the partial record is ignored, replay stopped")]
    private partial void LogTruncated(string path, long frames, long offset);

    [LoggerMessage(Level = LogLevel.Error, Message = "Capture {Path} record {Record} at byte {Offset} declares {Length} bytes, over the limit: the length prefix is corrupt, replay stopped")]
    private partial void LogOversized(string path, long record, long offset, uint length);
}
