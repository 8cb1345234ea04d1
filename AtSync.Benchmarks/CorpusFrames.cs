using System.Text.Json;
using AtSync.AtProto.Crypto;
using AtSync.AtProto.Identity;
using ZstdSharp;

namespace AtSync.Benchmarks;

/// <summary>Loads the 150 corpus relay frames (walks up to the folder holding AtSync.sln, then testdata/).</summary>
public static class CorpusFrames
{
    public static byte[][] Load()
    {
        var data = ReadZstd("frames.bin.zst");
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

    /// <summary>The commit authors' <c>#atproto</c> signing keys from <c>did_docs.json.zst</c> (captured with the frames).</summary>
    public static Dictionary<string, PublicKey> LoadSigningKeys()
    {
        var docs = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(ReadZstd("did_docs.json.zst"))!;
        var keys = new Dictionary<string, PublicKey>(StringComparer.Ordinal);
        foreach (var (did, doc) in docs)
        {
            if (DidDocument.Parse(doc.GetRawText()).SigningKey is { } key)
            {
                keys[did] = key;
            }
        }

        return keys;
    }

    private static byte[] ReadZstd(string name)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "AtSync.sln")))
        {
            dir = dir.Parent;
        }

        var path = dir is null ? null : Path.GetFullPath(Path.Combine(dir.FullName, "testdata", "firehose", name));
        if (path is null || !File.Exists(path))
        {
            throw new InvalidOperationException($"Corpus not found: expected testdata/firehose/{name} in the repository (searched up from {AppContext.BaseDirectory}).");
        }

        using var input = File.OpenRead(path);
        using var zstd = new DecompressionStream(input);
        using var buffer = new MemoryStream();
        zstd.CopyTo(buffer);
        return buffer.ToArray();
    }
}
