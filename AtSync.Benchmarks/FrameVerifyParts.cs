using System.Diagnostics;
using System.Security.Cryptography;
using AtSync.AtProto.Car;
using AtSync.AtProto.Crypto;
using AtSync.AtProto.DagCbor;
using AtSync.AtProto.EventStream;
using AtSync.AtProto.Mst;
using AtSync.AtProto.Sync;

namespace AtSync.Benchmarks;

/// <summary>
/// <c>bench-sync-parts [seconds=1.5] [filter]</c>: what each part of <see cref="FrameVerifyBenchmarks"/>' loops costs, in µs of
/// this process's CPU and bytes allocated per corpus frame, one thread: the CAR's block hashing, the strict decode of
/// every block, the commit block, the signature (SHA-256 of the unsigned commit, low-S, the backend), and the MST
/// inversion in its steps (only the slices whose name contains <c>filter</c>, when given: e.g. for a profiler). Each slice runs alone over the 150 frames, so the parts add up only roughly to the loops.
/// </summary>
internal static class FrameVerifyParts
{
    public static int Run(string[] args)
    {
        var seconds = args.Length > 0 ? double.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 1.5;
        s_filter = args.Length > 1 ? args[1] : null;
        var frames = CorpusFrames.Load();
        var keys = CorpusFrames.LoadSigningKeys();
        var commits = frames.Select(f => FrameDecoder.DecodeRepoFrame(f)).OfType<CommitEvent>().ToArray();
        var blocks = commits.SelectMany(c => c.Blocks.Blocks.ToArray()).ToArray();
        var commitBlocks = commits.Select(c => c.ReadCommitBlock()).ToArray();
        var hashes = commitBlocks.Select(cb => SHA256.HashData(cb.GetUnsignedBytes())).ToArray();
        var commitKeys = commits.Select(c => keys[c.Repo]).ToArray();
        var nodes = blocks.Where(b => IsMstNode(b.Data)).ToArray();
        var nodeData = nodes.Select(b => MstNodeCodec.Decode(b.Data)).ToArray();
        var unverified = FrameDecodeOptions.Default with { Car = CarReadOptions.Default with { VerifyBlocks = false } };
        Console.WriteLine($"bench-sync-parts: {frames.Length} frames ({commits.Length} commits, {blocks.Length / (double)commits.Length:N1} blocks and {nodes.Length / (double)commits.Length:N1} MST nodes a commit, {blocks.Average(b => b.Data.Length):N0} bytes a block); load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
        Console.WriteLine($"SHA-256: {Sha256Digest.Backend}; secp256k1: {PublicKey.Secp256k1Backend}; per corpus frame, one thread:");

        Slice("frame + CAR read, blocks not hashed", frames.Length, seconds, () => { foreach (var f in frames) FrameDecoder.DecodeRepoFrame(f, unverified); });
        Slice("frame + CAR read, every block CID-checked", frames.Length, seconds, () => { foreach (var f in frames) FrameDecoder.DecodeRepoFrame(f); });
        Slice("  of which SHA-256 of every block", frames.Length, seconds, () => { Span<byte> d = stackalloc byte[32]; foreach (var b in blocks) Sha256Digest.Hash(b.Data.Span, d); });
        Slice("  the same through SHA256.HashData", frames.Length, seconds, () => { Span<byte> d = stackalloc byte[32]; foreach (var b in blocks) SHA256.HashData(b.Data.Span, d); });
        Slice("strict decode of every block (Validate)", frames.Length, seconds, () => { foreach (var b in blocks) DagCborReader.Validate(b.Data.Span); });
        Slice("commit block decode", frames.Length, seconds, () => { foreach (var c in commits) c.ReadCommitBlock(); });
        Slice("signature: unsigned bytes + SHA-256", frames.Length, seconds, () => { Span<byte> buf = stackalloc byte[1024]; Span<byte> d = stackalloc byte[32]; foreach (var cb in commitBlocks) Sha256Digest.Hash(buf[..cb.CopyUnsignedBytes(buf)], d); });
        Slice("signature: low-S + secp256k1 verify", frames.Length, seconds, () => { for (var i = 0; i < commitBlocks.Length; i++) commitKeys[i].VerifyHash(hashes[i], commitBlocks[i].Signature.Span); });
        Slice("MST: decode every node in the CAR", frames.Length, seconds, () => { foreach (var b in nodes) MstNodeCodec.Decode(b.Data); });
        Slice("MST: encode every node in the CAR", frames.Length, seconds, () => { foreach (var n in nodeData) MstNodeCodec.Encode(n); });
        Slice("MST: open the tree (root node)", frames.Length, seconds, () => { for (var i = 0; i < commits.Length; i++) Open(commits[i], commitBlocks[i]); });
        Slice("MST: open + undo the ops", frames.Length, seconds, () => { for (var i = 0; i < commits.Length; i++) Undo(Open(commits[i], commitBlocks[i]), commits[i]); });
        Slice("MST: open + undo + root CID", frames.Length, seconds, () => { for (var i = 0; i < commits.Length; i++) Undo(Open(commits[i], commitBlocks[i]), commits[i]).RootCid(); });
        Slice("MST inversion as verified (VerifyStructure)", frames.Length, seconds, () => { foreach (var c in commits) CommitVerifier.VerifyStructure(c); });
        var unhashed = frames.Select(f => FrameDecoder.DecodeRepoFrame(f, unverified)).OfType<CommitEvent>().ToArray();
        Slice("the same, CAR not hashed (nodes hashed when opened)", frames.Length, seconds, () => { foreach (var c in unhashed) CommitVerifier.VerifyStructure(c); });
        return 0;
    }

    private static MstTree Open(CommitEvent commit, CommitBlock block) => MstTree.Load(block.Data, commit.Blocks, maxNodes: commit.Blocks.BlockCount, everyKeyLayer: false);

    private static MstTree Undo(MstTree tree, CommitEvent commit)
    {
        foreach (var op in commit.Ops)
        {
            tree.Invert(new MstOperation(op.Path, op.Cid, op.Prev));
        }

        return tree;
    }

    private static bool IsMstNode(ReadOnlyMemory<byte> block)
    {
        try
        {
            MstNodeCodec.Decode(block);
            return true;
        }
        catch (MstFormatException)
        {
            return false;
        }
    }

    private static string? s_filter;

    private static void Slice(string name, int frames, double seconds, Action pass)
    {
        if (s_filter is not null && !name.Contains(s_filter, StringComparison.OrdinalIgnoreCase))
        {
            return;
        }

        var warm = Stopwatch.StartNew();
        while (warm.Elapsed.TotalSeconds < 0.5)
        {
            pass();
        }

        using var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        long passes = 0;
        var wall = Stopwatch.StartNew();
        while (wall.Elapsed.TotalSeconds < seconds)
        {
            pass();
            passes++;
        }

        process.Refresh();
        var perFrame = (process.TotalProcessorTime - cpuBefore).TotalMicroseconds / (passes * frames);
        var allocated = (GC.GetAllocatedBytesForCurrentThread() - allocatedBefore) / (double)(passes * frames);
        Console.WriteLine($"  {name,-46} {perFrame,8:N2} µs CPU {allocated,8:N0} B allocated");
    }
}
