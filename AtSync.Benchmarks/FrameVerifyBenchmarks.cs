using AtSync.AtProto.Crypto;
using AtSync.AtProto.DagCbor;
using AtSync.AtProto.EventStream;
using AtSync.AtProto.Sync;
using BenchmarkDotNet.Attributes;

namespace AtSync.Benchmarks;

/// <summary>
/// Per-frame cost over the 150 corpus frames (keys already resolved), one thread — frames/s/core is 1 s / the mean:
/// (1) decode: frame, CAR with every block CID-checked, every block strictly decoded; (2) + the commit signature;
/// (3) + sync 1.1 verification, i.e. <see cref="CommitVerifier.Verify"/>: signature and MST inversion to <c>prevData</c>.
/// The same three again as the Firehose reads frames (<c>AtProtoStreamDecoder</c>): the CAR is framed without hashing
/// and each block is checked against its CID when it is used — the commit block, every MST node the inversion opens,
/// and here every op's record (hashed and strictly decoded, as a forum op's record is), treating each corpus commit as
/// a forum commit. Blocks no check reads are neither hashed nor decoded.
/// </summary>
[MemoryDiagnoser]
public class FrameVerifyBenchmarks
{
    private const int FrameCount = 150;
    private byte[][] _frames = [];
    private Dictionary<string, PublicKey> _keys = [];

    [GlobalSetup]
    public void Setup()
    {
        _frames = CorpusFrames.Load();
        _keys = CorpusFrames.LoadSigningKeys();
        if (_frames.Length != FrameCount || DecodeSignatureInversion() != 148 || FirehoseDecodeSignatureInversion() != 148)
        {
            throw new InvalidOperationException($"setup: {_frames.Length} frames, or not every commit verifies");
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = FrameCount, Description = "decode")]
    public int Decode()
    {
        var n = 0;
        foreach (var frame in _frames)
        {
            n += DecodeFrame(frame) is null ? 0 : 1;
        }

        return n;
    }

    [Benchmark(OperationsPerInvoke = FrameCount, Description = "decode + signature")]
    public int DecodeSignature()
    {
        var n = 0;
        foreach (var frame in _frames)
        {
            if (DecodeFrame(frame) is { } commit && CommitBlockVerifier.VerifyWith(commit.ReadCommitBlock(), _keys[commit.Repo]))
            {
                n++;
            }
        }

        return n;
    }

    [Benchmark(OperationsPerInvoke = FrameCount, Description = "decode + signature + MST inversion")]
    public int DecodeSignatureInversion()
    {
        var n = 0;
        foreach (var frame in _frames)
        {
            if (DecodeFrame(frame) is { } commit && CommitVerifier.Verify(commit, _keys[commit.Repo]).IsVerified)
            {
                n++;
            }
        }

        return n;
    }

    [Benchmark(OperationsPerInvoke = FrameCount, Description = "Firehose: decode")]
    public int FirehoseDecode()
    {
        var n = 0;
        foreach (var frame in _frames)
        {
            n += ReadAsTheFirehose(frame) is null ? 0 : 1;
        }

        return n;
    }

    [Benchmark(OperationsPerInvoke = FrameCount, Description = "Firehose: decode + signature")]
    public int FirehoseDecodeSignature()
    {
        var n = 0;
        foreach (var frame in _frames)
        {
            if (ReadAsTheFirehose(frame) is { } commit && CommitBlockVerifier.VerifyWith(commit.ReadCommitBlock(), _keys[commit.Repo]))
            {
                n++;
            }
        }

        return n;
    }

    [Benchmark(OperationsPerInvoke = FrameCount, Description = "Firehose: decode + signature + MST inversion")]
    public int FirehoseDecodeSignatureInversion()
    {
        var n = 0;
        foreach (var frame in _frames)
        {
            if (ReadAsTheFirehose(frame) is { } commit && CommitVerifier.Verify(commit, _keys[commit.Repo]).IsVerified)
            {
                n++;
            }
        }

        return n;
    }

    private static readonly FrameDecodeOptions AsTheFirehose = FrameDecodeOptions.Default with
    {
        Car = FrameDecodeOptions.Default.Car with { VerifyBlocks = false },
    };

    private static CommitEvent? ReadAsTheFirehose(byte[] frame)
    {
        if (FrameDecoder.DecodeRepoFrame(frame, AsTheFirehose) is not CommitEvent commit)
        {
            return null;
        }

        foreach (var op in commit.Ops)
        {
            commit.TryGetRecord(op, out _);
        }

        return commit;
    }

    private static CommitEvent? DecodeFrame(byte[] frame)
    {
        if (FrameDecoder.DecodeRepoFrame(frame) is not CommitEvent commit)
        {
            return null;
        }

        foreach (var block in commit.Blocks.Blocks)
        {
            DagCborReader.Validate(block.Data.Span);
        }

        return commit;
    }
}
