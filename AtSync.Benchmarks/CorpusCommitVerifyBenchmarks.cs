using System.Text.Json;
using AtSync.AtProto.Crypto;
using AtSync.AtProto.EventStream;
using AtSync.AtProto.Identity;
using BenchmarkDotNet.Attributes;

namespace AtSync.Benchmarks;

/// <summary>
/// Signature verification of the 148 real relay commits in <c>testdata/firehose</c> with their authors'
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
        var docs = CorpusKeys();
        var list = new List<(CommitBlock, PublicKey)>();
        foreach (var frame in CorpusFrames.Load())
        {
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

    /// <summary>DID → <c>#atproto</c> key of every commit author, from <c>firehose/did_docs.json.zst</c>.</summary>
    internal static Dictionary<string, PublicKey> CorpusKeys() =>
        JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(Zstd(Path.Combine(FindCorpus(), "firehose", "did_docs.json.zst")))!
            .ToDictionary(kv => kv.Key, kv => DidDocument.FromJson(kv.Value).SigningKey!);

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
                var corpus = Path.GetFullPath(Path.Combine(dir.FullName, "testdata"));
                return Directory.Exists(corpus) ? corpus : throw new DirectoryNotFoundException($"No corpus at {corpus}");
            }
        }
        throw new DirectoryNotFoundException($"No AtSync.sln above {AppContext.BaseDirectory}");
    }
}

/// <summary>
/// Issue 3's (a) and (b) side by side over the 150 corpus frames: full decode (header, body, CAR with CID checks,
/// every block strictly decoded), then the same plus each commit's signature verified with its author's key
/// (keys already resolved, as the DID cache would hold them). Times are per frame.
/// </summary>
[MemoryDiagnoser]
public class FrameDecodeWithSignatureBenchmarks
{
    private byte[][] _frames = [];
    private CommitBlockVerifier _verifier = null!;

    [GlobalSetup]
    public void Setup()
    {
        _frames = CorpusFrames.Load();
        var keys = CorpusCommitVerifyBenchmarks.CorpusKeys();
        _verifier = new CommitBlockVerifier(did => keys.GetValueOrDefault(did));
        DecodeAndVerify(); // throws if any signature fails
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = 150, Description = "(a) full decode")]
    public int Decode()
    {
        var work = 0;
        foreach (var frame in _frames)
        {
            work += FullDecode.Run(frame);
        }
        return work;
    }

    [Benchmark(OperationsPerInvoke = 150, Description = "(b) full decode + signature")]
    public int DecodeAndVerify()
    {
        var work = 0;
        foreach (var frame in _frames)
        {
            work += FullDecode.Run(frame, _verifier);
        }
        return work;
    }
}
