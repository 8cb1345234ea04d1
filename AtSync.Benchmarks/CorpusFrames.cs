using ZstdSharp;

namespace AtSync.Benchmarks;

/// <summary>Loads the 150 corpus relay frames (walks up to the folder holding AtSync.sln, then ../shared/corpus).</summary>
public static class CorpusFrames
{
    public static byte[][] Load()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "AtSync.sln")))
        {
            dir = dir.Parent;
        }

        var path = dir is null ? null : Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "corpus", "firehose", "frames.bin.zst"));
        if (path is null || !File.Exists(path))
        {
            throw new InvalidOperationException($"Corpus not found: expected ../shared/corpus/firehose/frames.bin.zst beside the repository (searched up from {AppContext.BaseDirectory}).");
        }

        using var input = File.OpenRead(path);
        using var zstd = new DecompressionStream(input);
        using var buffer = new MemoryStream();
        zstd.CopyTo(buffer);
        var data = buffer.ToArray();
        var frames = new List<byte[]>();
        var pos = 0;
        while (pos + 4 <= data.Length)
        {
            var length = (int)BitConverter.ToUInt32(data, pos);
            pos += 4;
            frames.Add(data.AsSpan(pos, length).ToArray());
            pos += length;
        }

        return [.. frames];
    }
}
