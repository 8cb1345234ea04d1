using AtSync.AtProto.Crypto;
using BenchmarkDotNet.Attributes;

namespace AtSync.Benchmarks;

/// <summary>Full decode of the 150 corpus frames per invocation (divide by 150 for per-frame numbers).</summary>
[MemoryDiagnoser]
public class FrameDecodeBenchmarks
{
    private byte[][] _frames = [];
    private CommitBlockVerifier? _verifier;

    [GlobalSetup]
    public void Setup()
    {
        _frames = CorpusFrames.Load();
        var keys = CorpusFrames.LoadSigningKeys();
        _verifier = new CommitBlockVerifier(did => keys.GetValueOrDefault(did));
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = 150)]
    public int FullDecode150Frames()
    {
        var work = 0;
        foreach (var frame in _frames)
        {
            work += FullDecode.Run(frame);
        }

        return work;
    }

    [Benchmark(OperationsPerInvoke = 150)]
    public int FullDecodeWithValueTrees150Frames()
    {
        var work = 0;
        foreach (var frame in _frames)
        {
            work += FullDecode.RunWithTrees(frame);
        }

        return work;
    }

    /// <summary>(b): (a) plus every commit's signature verified with its author's key (keys already resolved).</summary>
    [Benchmark(OperationsPerInvoke = 150)]
    public int FullDecodeAndVerifySignatures150Frames()
    {
        var work = 0;
        foreach (var frame in _frames)
        {
            work += FullDecode.Run(frame, _verifier);
        }

        return work;
    }
}
