using AtSync.AtProto.DagCbor;
using AtSync.AtProto.EventStream;

namespace AtSync.Benchmarks;

/// <summary>
/// The measured work: decode header and body, read the CAR (every block CID-checked while reading), then decode every
/// block strictly. <paramref name="verifier"/> is the seam for signature verification (b): when given, each commit's
/// signature is checked too.
/// </summary>
public static class FullDecode
{
    public static int Run(byte[] frame, ICommitVerifier? verifier = null)
    {
        var evt = FrameDecoder.DecodeRepoFrame(frame);
        var work = 0;
        if (evt is CommitEvent commit)
        {
            foreach (var block in commit.Blocks.Blocks)
            {
                DagCborReader.Validate(block.Data.Span);
                work++;
            }

            if (verifier is not null && !commit.VerifySignature(verifier))
            {
                throw new InvalidOperationException($"signature check failed for seq {commit.Seq}");
            }

            work += commit.Ops.Count;
        }

        return work;
    }

    /// <summary>Like <see cref="Run"/>, but also materializes every block as a value tree.</summary>
    public static int RunWithTrees(byte[] frame)
    {
        var evt = FrameDecoder.DecodeRepoFrame(frame);
        var work = 0;
        if (evt is CommitEvent commit)
        {
            foreach (var block in commit.Blocks.Blocks)
            {
                var value = DagCborReader.Decode(block.Data);
                work += (int)value.Kind;
            }
        }

        return work;
    }
}
