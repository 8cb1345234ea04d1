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
    private (PublicKey Key, byte[] Hash, byte[] Signature)[] _signed = [];

    [GlobalSetup]
    public void Setup()
    {
        _frames = CorpusFrames.Load();
        _keys = CorpusFrames.LoadSigningKeys();
        _signed = [.. _frames.Select(f => FrameDecoder.DecodeRepoFrame(f)).OfType<CommitEvent>().Select(c =>
        {
            var block = c.ReadCommitBlock();
            return (_keys[c.Repo], System.Security.Cryptography.SHA256.HashData(block.GetUnsignedBytes()), block.Signature.ToArray());
        })];
        if (SignatureAlone() != 148)
        {
            throw new InvalidOperationException("setup: not every corpus signature verifies alone");
        }

        if (_frames.Length != FrameCount || DecodeSignatureInversion() != 148 || FirehoseDecodeSignatureInversion() != 148)
        {
            throw new InvalidOperationException($"setup: {_frames.Length} frames, or not every commit verifies");
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = FrameCount, Description = "decode")]
    public int Decode() => Count(DecodeFrame, _ => true);

    [Benchmark(OperationsPerInvoke = FrameCount, Description = "decode + signature")]
    public int DecodeSignature() => Count(DecodeFrame, Signed);

    [Benchmark(OperationsPerInvoke = FrameCount, Description = "decode + signature + MST inversion")]
    public int DecodeSignatureInversion() => Count(DecodeFrame, Verified);

    [Benchmark(OperationsPerInvoke = FrameCount, Description = "Firehose: decode")]
    public int FirehoseDecode() => Count(ReadAsTheFirehose, _ => true);

    [Benchmark(OperationsPerInvoke = FrameCount, Description = "Firehose: decode + signature")]
    public int FirehoseDecodeSignature() => Count(ReadAsTheFirehose, Signed);

    [Benchmark(OperationsPerInvoke = FrameCount, Description = "Firehose: decode + signature + MST inversion")]
    public int FirehoseDecodeSignatureInversion() => Count(ReadAsTheFirehose, Verified);

    /// <summary>
    /// The floor under the signature loops: only the low-S check and the libsecp256k1 verify of each corpus commit,
    /// its digest computed beforehand, with its author's own key (148 distinct signers, as on the network).
    /// </summary>
    [Benchmark(OperationsPerInvoke = FrameCount, Description = "signature alone (verify of the 148 digests)")]
    public int SignatureAlone()
    {
        var n = 0;
        foreach (var (key, hash, signature) in _signed)
        {
            n += key.VerifyHash(hash, signature) ? 1 : 0;
        }

        return n;
    }

    /// <summary>How many of the frames <paramref name="read"/> gives a commit that passes <paramref name="check"/>.</summary>
    private int Count(Func<byte[], CommitEvent?> read, Func<CommitEvent, bool> check)
    {
        var n = 0;
        foreach (var frame in _frames)
        {
            if (read(frame) is { } commit && check(commit))
            {
                n++;
            }
        }

        return n;
    }

    private bool Signed(CommitEvent commit) => CommitBlockVerifier.VerifyWith(commit.ReadCommitBlock(), _keys[commit.Repo]);

    private bool Verified(CommitEvent commit) => CommitVerifier.Verify(commit, _keys[commit.Repo]).IsVerified;

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
