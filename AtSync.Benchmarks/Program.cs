using System.Diagnostics;
using AtSync.AtProto;
using AtSync.AtProto.EventStream;
using AtSync.Benchmarks;
using BenchmarkDotNet.Running;

switch (args.FirstOrDefault())
{
    case "bench-decode":
        return QuickBench.Decode(args.Length > 1 ? double.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 3.0);
    case "bench-errors":
        return QuickBench.Truncations();
    case "bench-firehose":
        return await FirehoseBench.RunAsync(args[1..]);
    case "bench-sync":
        return await SyncBench.RunAsync(args[1..]);
    case "bench-sync-parts":
        return FrameVerifyParts.Run(args[1..]);
    case "bench-jetstream":
        return await JetstreamBench.RunAsync(args[1..]);
    case "bench-queue":
        return await QueueBench.RunAsync(args);
#if ATSYNC_ASPIRE
    case "bench-apphost":
        return await AppHostBench.RunAsync(args[1..]);
#endif
    default:
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
}

/// <summary>Quick single-thread loops that print numbers (no BenchmarkDotNet run needed).</summary>
internal static class QuickBench
{
    public static int Decode(double seconds)
    {
        var frames = CorpusFrames.Load();
        long totalBytes = 0;
        foreach (var f in frames)
        {
            totalBytes += f.Length;
        }

        Console.WriteLine($"corpus: {frames.Length} frames, {totalBytes:N0} bytes ({totalBytes / frames.Length:N0} avg); one thread; load average {LoadAverage()}");
        Console.WriteLine("(wall-clock rates suffer when the machine is shared; CPU-second rates count only this process's CPU time)");
        Run("(a) full decode (header, body, CAR, blocks CID-checked, every block strictly decoded)", frames, totalBytes, seconds, f => FullDecode.Run(f));
        var keys = CorpusFrames.LoadSigningKeys();
        var verifier = new AtSync.AtProto.Crypto.CommitBlockVerifier(did => keys.GetValueOrDefault(did));
        Run("(b) full decode + commit signature verification (keys already resolved)", frames, totalBytes, seconds, f => FullDecode.Run(f, verifier));
        Run("full decode + value trees for every block", frames, totalBytes, seconds, FullDecode.RunWithTrees);
        Run("frame decode only (CAR read + CID-checked, blocks not decoded)", frames, totalBytes, seconds, f => FrameDecoder.DecodeRepoFrame(f) is CommitEvent ? 1 : 0);
        return 0;
    }

    private static void Run(string name, byte[][] frames, long totalBytes, double seconds, Func<byte[], int> work)
    {
        // Warm up (tiered JIT) for a second.
        var warm = Stopwatch.StartNew();
        while (warm.Elapsed.TotalSeconds < 1)
        {
            foreach (var f in frames)
            {
                work(f);
            }
        }

        long passes = 0;
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        var gcBefore = GC.CollectionCount(0);
        using var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed.TotalSeconds < seconds)
        {
            foreach (var f in frames)
            {
                work(f);
            }

            passes++;
        }

        sw.Stop();
        process.Refresh();
        var cpu = (process.TotalProcessorTime - cpuBefore).TotalSeconds;
        var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        var frameCount = passes * frames.Length;
        var elapsed = sw.Elapsed.TotalSeconds;
        Console.WriteLine(name);
        Console.WriteLine($"  wall: {frameCount / elapsed,10:N0} frames/s {passes * totalBytes / elapsed / 1e6,8:N1} MB/s | per CPU-second (process): {frameCount / cpu,10:N0} frames/s {passes * totalBytes / cpu / 1e6,8:N1} MB/s | {(double)allocated / frameCount,7:N0} B allocated/frame | gen0 GCs {GC.CollectionCount(0) - gcBefore} | {frameCount:N0} frames, {elapsed:N2} s wall, {cpu:N2} s CPU");
    }

    private static string LoadAverage()
    {
        try
        {
            return File.ReadAllText("/proc/loadavg").Split(' ')[0];
        }
        catch (IOException)
        {
            return "n/a";
        }
    }

    /// <summary>Cost of rejecting damaged input: every truncation of every corpus frame.</summary>
    public static int Truncations()
    {
        var frames = CorpusFrames.Load();
        long cases = 0, errors = 0;
        var sw = Stopwatch.StartNew();
        foreach (var frame in frames)
        {
            for (var length = 0; length < frame.Length; length++)
            {
                cases++;
                try
                {
                    FrameDecoder.DecodeRepoFrame(frame.AsMemory(0, length));
                }
                catch (AtProtoDataException)
                {
                    errors++;
                }
            }
        }

        Console.WriteLine($"DecodeRepoFrame (throws): {cases:N0} truncations, {errors:N0} errors, {sw.Elapsed.TotalSeconds:N2} s, {sw.Elapsed.TotalMicroseconds / cases:N2} µs each");

        cases = errors = 0;
        sw.Restart();
        foreach (var frame in frames)
        {
            for (var length = 0; length < frame.Length; length++)
            {
                cases++;
                if (!FrameDecoder.TryDecodeRepoFrame(frame.AsMemory(0, length), out _, out _))
                {
                    errors++;
                }
            }
        }

        Console.WriteLine($"TryDecodeRepoFrame (error value): {cases:N0} truncations, {errors:N0} errors, {sw.Elapsed.TotalSeconds:N2} s, {sw.Elapsed.TotalMicroseconds / cases:N2} µs each");
        return 0;
    }
}
