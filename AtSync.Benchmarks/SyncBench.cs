using System.Diagnostics;
using AtSync.Tests.Firehose.Import;

namespace AtSync.Benchmarks;

/// <summary>
/// <c>bench-sync [seconds=3] [records=20000]</c> (records 0: the frame loops only): the sync 1.1 numbers of issue #14 in one run, single thread, on the
/// corpus (150 frames, keys already resolved): frames/s/core for (1) decode, (2) decode + signature, (3) decode +
/// signature + MST inversion to <c>prevData</c> (the loops of <see cref="FrameVerifyBenchmarks"/>, first with every block
/// hashed and decoded up front, then as the Firehose reads frames, blocks checked when used); then (4) backfill
/// records/s: a generated repository of <c>records</c> forum posts, its getRepo CAR served from loopback, fetched,
/// verified (every hash, the signature, the whole tree) and applied by the Firehose's importer into a fresh MariaDB
/// database (phpBB's real schema). Rates per CPU-second of this process are printed beside wall-clock rates, since the
/// machine may be shared (the load average is printed).
/// </summary>
internal static class SyncBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var seconds = args.Length > 0 ? double.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 3.0;
        var records = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 20_000;
        Console.WriteLine($"bench-sync: {Environment.ProcessorCount} cores, load average {LoadAverage()} at start; {seconds:N1} s per frame loop, one thread");
        var frames = new FrameVerifyBenchmarks();
        frames.Setup();
        Loop("decode", 150, seconds, () => frames.Decode(), goal: null);
        Loop("decode + signature", 150, seconds, () => frames.DecodeSignature(), goal: 20_000);
        Loop("decode + signature + MST inversion", 150, seconds, () => frames.DecodeSignatureInversion(), goal: 15_000);
        Loop("signature alone (no decode at all)", 150, seconds, () => frames.SignatureAlone(), goal: null);
        Console.WriteLine("as the Firehose reads frames (each block hashed when a check uses it; every op's record read):");
        Loop("decode", 150, seconds, () => frames.FirehoseDecode(), goal: null);
        Loop("decode + signature", 150, seconds, () => frames.FirehoseDecodeSignature(), goal: 20_000);
        Loop("decode + signature + MST inversion", 150, seconds, () => frames.FirehoseDecodeSignatureInversion(), goal: 15_000);

        if (records == 0)
        {
            return 0; // frame loops only
        }

        await using var h = await ImportHarness.StartAsync(extra: new Dictionary<string, string?> { ["Import:BatchSize"] = "1000", ["Logging:LogLevel:Default"] = "Warning" });
        // The first import in a process pays for the JIT (tiered compilation recompiles the importer's hot methods
        // while it runs: perf shows the JIT and the tiering thread taking more CPU than the importer's own code). A
        // running Firehose's importer is warm, so a repository of the same size, of another DID, is imported first
        // (printed as the cold figure: what the first backfill after a start costs) and the measured one follows.
        const string warmDid = "did:plc:benchsyncbackfillwarm672";
        using (var warmRepo = h.Repository(warmDid))
        {
            warmRepo.Generate(topics: Math.Max(1, records / 10), repliesPerTopic: 9);
            var warmCar = warmRepo.ExportCar();
            h.Pds.Repos[warmDid] = () => warmCar;
            var cold = Stopwatch.StartNew();
            var warmResult = await h.ImportAsync(warmDid);
            if (!warmResult.Succeeded) throw new InvalidOperationException($"the warm-up import failed: {warmResult.Reason}");
            Console.WriteLine($"backfill, first import in this process (cold JIT): {warmResult.Plan!.Ops.Count:N0} records in {cold.Elapsed.TotalSeconds:N2} s, {warmResult.Plan.Ops.Count / cold.Elapsed.TotalSeconds:N0} records/s wall");
        }
        const string did = "did:plc:benchsyncbackfill2345672";
        using var repo = h.Repository(did);
        repo.Generate(topics: Math.Max(1, records / 10), repliesPerTopic: 9);
        var car = repo.ExportCar();
        h.Pds.Repos[did] = () => car;
        using var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        var serverBefore = ServerCpuSeconds(h.Database.Server.Port);
        var wall = Stopwatch.StartNew();
        var result = await h.ImportAsync(did);
        wall.Stop();
        process.Refresh();
        var cpu = (process.TotalProcessorTime - cpuBefore).TotalSeconds;
        var serverCpu = ServerCpuSeconds(h.Database.Server.Port) - serverBefore;
        if (!result.Succeeded) throw new InvalidOperationException($"the import failed: {result.Reason}");
        var applied = result.Plan!.Ops.Count;
        Console.WriteLine($"backfill from a local CAR into MariaDB, importer warm ({applied:N0} records, CAR {car.Length / 1e6:N1} MB, fetch + verify + apply, batches of 1000)");
        Console.WriteLine($"  wall: {applied / wall.Elapsed.TotalSeconds,10:N0} records/s | per CPU-second (this process, MariaDB not counted): {applied / cpu,10:N0} records/s | {wall.Elapsed.TotalSeconds:N2} s wall, {cpu:N2} s CPU | goal >= 5,000 records/s");
        Console.WriteLine($"  MariaDB server: {serverCpu:N2} s CPU ({applied / serverCpu:N0} records per server CPU-second); both together {applied / (cpu + serverCpu):N0} records per CPU-second");
        var tm = result.Timings;
        Console.WriteLine($"  where the time went: resolve + download {tm.Download.TotalSeconds:N2} s | CAR parse + verify (every block hashed, signature, tree) {tm.Verify.TotalSeconds:N2} s | plan {tm.Plan.TotalSeconds:N2} s | apply {tm.Apply.TotalSeconds:N2} s ({tm.BulkBatches} batches in bulk, {tm.RecordBatches} one record at a time)");
        var again = Stopwatch.StartNew();
        var second = await h.ImportAsync(did);
        Console.WriteLine($"  the same repository again: {second.Plan?.Unchanged:N0} unchanged, {second.Plan?.Ops.Count ?? -1} applied, {again.Elapsed.TotalSeconds:N2} s ({second.Plan?.Unchanged / again.Elapsed.TotalSeconds:N0} records/s checked)");
        Console.WriteLine($"load average at end {LoadAverage()}");
        return 0;
    }

    private static void Loop(string name, int framesPerPass, double seconds, Func<int> pass, int? goal)
    {
        var warm = Stopwatch.StartNew();
        while (warm.Elapsed.TotalSeconds < 1) pass();
        using var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        long passes = 0;
        var wall = Stopwatch.StartNew();
        while (wall.Elapsed.TotalSeconds < seconds)
        {
            pass();
            passes++;
        }
        wall.Stop();
        process.Refresh();
        var cpu = (process.TotalProcessorTime - cpuBefore).TotalSeconds;
        var count = passes * framesPerPass;
        Console.WriteLine($"{name,-36} wall {count / wall.Elapsed.TotalSeconds,9:N0} frames/s | per CPU-second {count / cpu,9:N0} frames/s{(goal is { } g ? $" | goal >= {g:N0}" : "")}");
    }

    /// <summary>CPU seconds (user + system) of the mariadbd listening on <paramref name="port"/>, from /proc; NaN when not found.</summary>
    private static double ServerCpuSeconds(int port)
    {
        foreach (var dir in Directory.Exists("/proc") ? Directory.GetDirectories("/proc") : [])
        {
            try
            {
                var cmdline = File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0');
                if (!cmdline.Any(a => a.EndsWith("mariadbd", StringComparison.Ordinal) || a.EndsWith("mysqld", StringComparison.Ordinal))
                    || !cmdline.Contains($"--port={port}")) continue;
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                // Fields 14 and 15 of /proc/<pid>/stat (utime, stime), in clock ticks (100 per second on Linux).
                return (long.Parse(fields[11], System.Globalization.CultureInfo.InvariantCulture) + long.Parse(fields[12], System.Globalization.CultureInfo.InvariantCulture)) / 100.0;
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
        return double.NaN;
    }

    private static string LoadAverage() => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "?";
}
