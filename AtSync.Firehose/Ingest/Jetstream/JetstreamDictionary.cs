using System.Buffers.Binary;
using ZstdSharp;

namespace AtSync.Firehose.Ingest.Jetstream;

/// <summary>
/// Jetstream v1's zstd dictionary (<c>compress=true</c>): a protocol artifact, embedded from <c>zstd_dictionary</c> beside
/// this file (bluesky-social/jetstream, <c>internal/subscribe/dictionaries/legacy_subscribe.zdict</c>, itself the verbatim
/// copy of v1's <c>pkg/models/zstd_dictionary</c>; MIT / Apache-2.0; see <c>README.md</c> here). Each compressed frame is one
/// zstd frame made with this dictionary; frames decompress to at most a bounded size.
/// </summary>
public static class JetstreamDictionary
{
    /// <summary>The dictionary ID in its header (RFC 8878 §5), as Jetstream names it.</summary>
    public const uint Id = 1612007021;

    private const uint DictionaryMagic = 0xEC30A437;
    private const uint FrameMagic = 0xFD2FB528;
    private static readonly Lazy<byte[]> Bytes = new(Load);

    [ThreadStatic] private static Decompressor? _decompressor;

    public static byte[] Dictionary => Bytes.Value;

    /// <summary>True when <paramref name="frame"/> starts with the zstd frame magic (JSON text never does).</summary>
    public static bool IsCompressed(ReadOnlySpan<byte> frame) =>
        frame.Length >= 4 && BinaryPrimitives.ReadUInt32LittleEndian(frame) == FrameMagic;

    /// <summary>Decompresses one frame into a new array of at most <paramref name="maxBytes"/>; <see cref="InvalidDataException"/> otherwise.</summary>
    public static byte[] Decompress(ReadOnlySpan<byte> frame, int maxBytes)
    {
        var decompressor = _decompressor ??= NewDecompressor();
        ulong declared;
        try
        {
            declared = Decompressor.GetDecompressedSize(frame);
        }
        catch (ZstdException)
        {
            declared = ulong.MaxValue;
        }
        // A frame that declares its size gets exactly that buffer; one that does not gets the bound.
        var capacity = declared <= (ulong)maxBytes ? (int)declared : declared == ulong.MaxValue || declared == ulong.MaxValue - 1 ? maxBytes : -1;
        if (capacity < 0) throw new InvalidDataException($"a compressed frame declares {declared} bytes, over the {maxBytes}-byte bound");
        var output = new byte[capacity];
        try
        {
            var written = decompressor.Unwrap(frame, output);
            return written == output.Length ? output : output.AsSpan(0, written).ToArray();
        }
        catch (ZstdException ex)
        {
            _decompressor = null; // a failed frame can leave the context mid-stream
            throw new InvalidDataException("not a zstd frame of Jetstream's dictionary, or larger than the bound: " + ex.Message, ex);
        }
    }

    /// <summary>A compressor with the dictionary, as Jetstream compresses (for the loopback Jetstream and the bench).</summary>
    public static Compressor NewCompressor(int level = 3)
    {
        var compressor = new Compressor(level);
        compressor.LoadDictionary(Dictionary);
        return compressor;
    }

    private static Decompressor NewDecompressor()
    {
        var decompressor = new Decompressor();
        decompressor.LoadDictionary(Dictionary);
        return decompressor;
    }

    private static byte[] Load()
    {
        using var stream = typeof(JetstreamDictionary).Assembly.GetManifestResourceStream("AtSync.Firehose.Jetstream.zstd_dictionary")
            ?? throw new InvalidOperationException("the Jetstream zstd dictionary is not embedded in AtSync.Firehose");
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        if (bytes.Length < 8 || BinaryPrimitives.ReadUInt32LittleEndian(bytes) != DictionaryMagic || BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(4)) != Id)
        {
            throw new InvalidOperationException($"the embedded Jetstream dictionary is not dictionary {Id}");
        }
        return bytes;
    }
}
