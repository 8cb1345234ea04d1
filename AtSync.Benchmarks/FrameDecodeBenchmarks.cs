using BenchmarkDotNet.Attributes;

namespace AtSync.Benchmarks;

/// <summary>Full decode of the 150 corpus frames per invocation (divide by 150 for per-frame numbers).</summary>
[MemoryDiagnoser]
public class FrameDecodeBenchmarks
{
    private byte[][] _frames = [];

    [GlobalSetup]
    public void Setup() => _frames = CorpusFrames.Load();

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
}
