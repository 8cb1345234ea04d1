using System.Text.Json;
using AtSync.AtProto.Crypto;
using AtSync.AtProto.EventStream;
using AtSync.AtProto.Identity;
using BenchmarkDotNet.Attributes;

namespace AtSync.Benchmarks;

/// <summary>
/// Signature verification of the 148 real relay commits in <c>../shared/corpus/firehose</c> with their authors'
/// keys (already resolved): unsigned-bytes extraction + SHA-256 + low-S ECDSA. Times are per commit.
/// </summary>
[MemoryDiagnoser]
public class CorpusCommitVerifyBenchmarks
{
    private const int CommitCount = 148;
    private (CommitBlock Block, PublicKey Key)[] _commits = [];

    [GlobalSetup]
    public void Setup()
    {
        var corpus = FindCorpus();
        var docs = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(Zstd(Path.Combine(corpus, "firehose", "did_docs.json.zst")))!
            .ToDictionary(kv => kv.Key, kv => DidDocument.FromJson(kv.Value).SigningKey!);
        var frames = Zstd(Path.Combine(corpus, "firehose", "frames.bin.zst"));
        var list = new List<(CommitBlock, PublicKey)>();
        for (var pos = 0; pos < frames.Length;)
        {
            var length = (int)BitConverter.ToUInt32(frames, pos);
            var frame = frames.AsMemory(pos + 4, length);
            pos += 4 + length;
            if (FrameDecoder.DecodeRepoFrame(frame) is CommitEvent commit)
            {
                list.Add((commit.ReadCommitBlock(), docs[commit.Repo]));
            }
        }
        _commits = [.. list];
        if (_commits.Length != CommitCount || VerifyAll() != CommitCount)
        {
            throw new InvalidOperationException($"setup: {_commits.Length} commits, not all verify");
        }
    }

    [Benchmark(OperationsPerInvoke = CommitCount, Description = "verify corpus commit (secp256k1, per commit)")]
    public int VerifyAll()
    {
        var ok = 0;
        foreach (var (block, key) in _commits)
        {
            ok += CommitBlockVerifier.VerifyWith(block, key) ? 1 : 0;
        }
        return ok;
    }

    private static byte[] Zstd(string path)
    {
        using var input = File.OpenRead(path);
        using var zstd = new ZstdSharp.DecompressionStream(input);
        using var output = new MemoryStream();
        zstd.CopyTo(output);
        return output.ToArray();
    }

    private static string FindCorpus()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "AtSync.sln")))
            {
                var corpus = Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "corpus"));
                return Directory.Exists(corpus) ? corpus : throw new DirectoryNotFoundException($"No corpus at {corpus}");
            }
        }
        throw new DirectoryNotFoundException($"No AtSync.sln above {AppContext.BaseDirectory}");
    }
}
