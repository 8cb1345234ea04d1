using ZstdSharp;

namespace AtSync.Tests.Infrastructure;

/// <summary>
/// Locates the shared test corpus: walks up from the test assembly to the folder holding <c>AtSync.sln</c>,
/// then <c>testdata/</c> (the repository's copy of the corpus; see testdata/README.md). Fails with a clear message when it is missing.
/// </summary>
public static class CorpusFiles
{
    private static readonly Lazy<string> RootPath = new(FindRoot);
    private static readonly Lazy<IReadOnlyList<byte[]>> Frames = new(LoadFirehoseFrames);

    /// <summary>Absolute path of the corpus folder.</summary>
    public static string Root => RootPath.Value;

    /// <summary>Absolute path of a corpus file, e.g. <c>Path("firehose", "manifest.json")</c>; throws if it does not exist.</summary>
    public static string Path(params string[] parts)
    {
        var path = System.IO.Path.Combine([Root, .. parts]);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Corpus file '{string.Join('/', parts)}' is missing from {Root}.", path);
        }

        return path;
    }

    public static string ReadText(params string[] parts) => File.ReadAllText(Path(parts));

    /// <summary>Reads and decompresses a <c>.zst</c> corpus file.</summary>
    public static byte[] ReadZstd(params string[] parts)
    {
        using var input = File.OpenRead(Path(parts));
        using var zstd = new DecompressionStream(input);
        using var output = new MemoryStream();
        zstd.CopyTo(output);
        return output.ToArray();
    }

    /// <summary>The 150 raw relay frames of <c>firehose/frames.bin.zst</c>, in capture order.</summary>
    public static IReadOnlyList<byte[]> FirehoseFrames() => Frames.Value;

    private static IReadOnlyList<byte[]> LoadFirehoseFrames()
    {
        var data = ReadZstd("firehose", "frames.bin.zst");
        var frames = new List<byte[]>();
        var pos = 0;
        while (pos < data.Length)
        {
            if (data.Length - pos < 4)
            {
                throw new InvalidDataException("frames.bin: truncated length prefix");
            }

            var length = (int)BitConverter.ToUInt32(data, pos);
            pos += 4;
            if (length < 0 || length > data.Length - pos)
            {
                throw new InvalidDataException($"frames.bin: frame {frames.Count} length {length} runs past the end");
            }

            frames.Add(data.AsSpan(pos, length).ToArray());
            pos += length;
        }

        return frames;
    }

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(System.IO.Path.Combine(dir.FullName, "AtSync.sln")))
        {
            dir = dir.Parent;
        }

        if (dir is null)
        {
            throw new InvalidOperationException(
                $"Test corpus not found: no folder holding AtSync.sln above {AppContext.BaseDirectory}, so testdata/ cannot be located.");
        }

        var corpus = System.IO.Path.GetFullPath(System.IO.Path.Combine(dir.FullName, "testdata"));
        if (!Directory.Exists(corpus))
        {
            throw new InvalidOperationException(
                $"Test corpus not found at {corpus} (expected testdata/ in the repository root {dir.FullName}).");
        }

        return corpus;
    }
}
