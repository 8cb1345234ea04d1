using System.Diagnostics;
using System.Globalization;
using AtSync.Core.Storage;
using AtSync.Testing;
using AtSync.Testing.Synthetic;
using AtSync.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using MySqlConnector;

namespace AtSync.Benchmarks;

/// <summary>
/// <c>bench-firehose [frames] [forumShare] [pacedRate]</c>: the whole Firehose service as a process (<c>dotnet AtSync.Firehose.dll</c>)
/// reading a synthetic stream (≥ 100,000 frames of mixed forum and ordinary traffic) from a loopback relay over a
/// real WebSocket, into a throwaway MariaDB. Prints events/s end to end, frame-to-commit latency percentiles (from the
/// relay's send of a frame to the moment its seq is visible as the committed cursor, polled every 5 ms), the service's
/// peak RSS (VmHWM), its CPU time, and the time SIGTERM takes to stop it, once idle and once mid-stream. A second run paces
/// the relay below saturation (a live relay's steady rate) so the latency is not that of a queued backlog.
/// The relay is AtSync.Testing's <see cref="LoopbackRelay"/>, the database the tests' <see cref="MariaDbServer"/>
/// (<c>ATSYNC_TEST_MYSQL</c> when set, else a throwaway <c>mariadbd</c>).
/// </summary>
internal static class FirehoseBench
{
    private const string ForumDid = "did:plc:benchforumbenchforumbenc";
    private static readonly string BoardUri = $"at://{ForumDid}/net.vza.forum.board/3kboardgeneral";

    public static async Task<int> RunAsync(string[] args)
    {
        var frames = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 100_000;
        var forumShare = args.Length > 1 ? double.Parse(args[1], CultureInfo.InvariantCulture) : 0.1;
        Console.WriteLine($"bench-firehose: {frames:N0} frames, forum share {forumShare:P0}; {Environment.ProcessorCount} cores, load average {LoadAverage()} (shared machine: compare ratios within a run)");

        var generate = Stopwatch.StartNew();
        using var factory = ForumFrameFactory.Create();
        var stream = SyntheticStream.Generate(factory, new SyntheticStreamOptions { Frames = frames, ForumShare = forumShare, BoardUri = BoardUri, Seed = 42 }).ToList();
        Console.WriteLine($"generated {stream.Count:N0} frames ({stream.Sum(f => (long)f.Frame.Length) / 1024.0 / 1024.0:0.0} MiB) in {generate.Elapsed.TotalSeconds:0.0} s");

        var database = await MariaDbServer.SharedAsync();
        var firehoseDll = FindServiceAssembly();

        // Run 1: the whole stream, then an idle SIGTERM.
        var connectionString = await CreateDatabaseAsync(database);
        await using (var relay = await StartRelayAsync(stream))
        {
            using var service = StartService(firehoseDll, connectionString, relay.Url);
            var result = await MeasureAsync(relay, connectionString, service, stream[^1].Seq, TimeSpan.FromMinutes(20));
            var rss = PeakRssMiB(service.Id);
            var cpu = CpuSeconds(service.Id);
            var stopTime = await TerminateAsync(service);
            Console.WriteLine($"end to end: {stream.Count:N0} events in {result.Elapsed.TotalSeconds:0.00} s = {stream.Count / result.Elapsed.TotalSeconds:N0} events/s");
            Console.WriteLine($"frame-to-commit latency: p50 {result.Percentile(0.50):0} ms, p99 {result.Percentile(0.99):0} ms, max {result.Percentile(1.0):0} ms");
            Console.WriteLine($"peak RSS of the service: {rss:0.0} MiB; service CPU {cpu:0.0} s ({stream.Count / cpu:N0} events per CPU-second)");
            Console.WriteLine($"shutdown (SIGTERM, idle): {stopTime.TotalMilliseconds:0} ms, exit code {service.ExitCode}");
            await PrintRowsAsync(connectionString);
        }

        // Run 2: the relay paced below saturation (a live relay's steady rate): latency without a backlog.
        var pacedRate = args.Length > 2 ? double.Parse(args[2], CultureInfo.InvariantCulture) : 2000;
        var pacedFrames = stream.Take(Math.Min(stream.Count, (int)(pacedRate * 15))).ToList();
        var pacedConnection = await CreateDatabaseAsync(database);
        await using (var relay = await StartRelayAsync(pacedFrames, pacedRate))
        {
            using var service = StartService(firehoseDll, pacedConnection, relay.Url);
            var result = await MeasureAsync(relay, pacedConnection, service, pacedFrames[^1].Seq, TimeSpan.FromMinutes(10));
            Console.WriteLine($"paced at {pacedRate:N0} events/s ({pacedFrames.Count:N0} events): frame-to-commit p50 {result.Percentile(0.50):0} ms, p99 {result.Percentile(0.99):0} ms, max {result.Percentile(1.0):0} ms; peak RSS {PeakRssMiB(service.Id):0.0} MiB");
            await TerminateAsync(service);
        }

        // Run 3: SIGTERM in the middle of the stream: time to exit, and the cursor it saved.
        var midConnection = await CreateDatabaseAsync(database);
        await using (var relay = await StartRelayAsync(stream))
        {
            using var service = StartService(firehoseDll, midConnection, relay.Url);
            var half = stream[stream.Count / 2].Seq;
            await WaitForCursorAsync(midConnection, half, TimeSpan.FromMinutes(10), service);
            var stopTime = await TerminateAsync(service);
            var saved = await CursorAsync(midConnection);
            Console.WriteLine($"shutdown (SIGTERM, mid-stream at ~{half:N0}): {stopTime.TotalMilliseconds:0} ms, exit code {service.ExitCode}, cursor saved {saved:N0}, relay sent up to {relay.Sent.LastSentSeq:N0}");
        }
        return 0;
    }

    private sealed record Measurement(TimeSpan Elapsed, double[] LatenciesMs)
    {
        public double Percentile(double p) => LatenciesMs.Length == 0 ? double.NaN : LatenciesMs[Math.Min(LatenciesMs.Length - 1, (int)Math.Ceiling(p * LatenciesMs.Length) - 1)];
    }

    private static async Task<Measurement> MeasureAsync(BenchStream relay, string connectionString, Process service, long lastSeq, TimeSpan timeout)
    {
        var latencies = new List<double>(relay.Sent.Seqs.Length);
        var deadline = DateTime.UtcNow + timeout;
        await using var connection = new MySqlConnection(connectionString);
        await connection.OpenAsync();
        await using var query = new MySqlCommand("SELECT cursor_value FROM phpbb_atproto_cursors WHERE service = 'firehose'", connection);
        var index = 0;
        var sentLog = relay.Sent;
        var seqs = sentLog.Seqs;
        while (true)
        {
            if (service.HasExited) throw new InvalidOperationException($"the service exited with {service.ExitCode}");
            if (DateTime.UtcNow > deadline) throw new TimeoutException("the service did not catch up");
            var value = await query.ExecuteScalarAsync();
            var now = Stopwatch.GetTimestamp();
            var cursor = value is null or DBNull ? 0 : Convert.ToInt64(value, CultureInfo.InvariantCulture);
            while (index < seqs.Length && seqs[index] <= cursor)
            {
                var sent = sentLog.SentAt[index];
                if (sent != 0) latencies.Add(Stopwatch.GetElapsedTime(sent, now).TotalMilliseconds);
                index++;
            }
            if (cursor >= lastSeq) break;
            await Task.Delay(5);
        }
        var elapsed = Stopwatch.GetElapsedTime(sentLog.FirstSentAt, Stopwatch.GetTimestamp());
        latencies.Sort();
        return new Measurement(elapsed, [.. latencies]);
    }

    private static Process StartService(string dll, string connectionString, Uri relayUrl)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = Path.GetDirectoryName(dll)! };
        start.ArgumentList.Add(dll);
        foreach (var name in new[] { "ASPNETCORE_URLS", "OTEL_EXPORTER_OTLP_ENDPOINT", "FIREHOSE_REPLAY_FILE" }) start.Environment.Remove(name);
        start.Environment["ConnectionStrings__phpbb"] = connectionString;
        start.Environment["FORUM_DID"] = ForumDid;
        start.Environment["FORUM_PDS_URL"] = "http://127.0.0.1:9";
        start.Environment["RELAY_URL"] = relayUrl.ToString();
        start.Environment["PLC_DIRECTORY_URL"] = "http://127.0.0.1:9";
        // No PLC directory runs beside the benchmark (nothing could serve the synthetic authors' DID documents), so
        // signature checks are off: this measures ingest and database throughput, not DID resolution.
        start.Environment["Firehose__VerifySignatures"] = "false";
        start.Environment["Firehose__LabelsEnabled"] = "false";
        start.Environment["LOG_LEVEL"] = "Warning";
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{LoopbackPorts.Next()}";
        start.Environment["DOTNET_gcServer"] = "0";
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => { if (e.Data is { } line) Console.WriteLine("  service: " + line); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is { } line) Console.WriteLine("  service: " + line); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task<TimeSpan> TerminateAsync(Process service)
    {
        var clock = Stopwatch.StartNew();
        using (var kill = Process.Start("kill", ["-TERM", service.Id.ToString(CultureInfo.InvariantCulture)])) await kill.WaitForExitAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await service.WaitForExitAsync(timeout.Token);
        return clock.Elapsed;
    }

    private static double CpuSeconds(int pid)
    {
        var fields = File.ReadAllText($"/proc/{pid}/stat").Split(')')[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }

    private static double PeakRssMiB(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                return long.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024.0;
            }
        }
        return double.NaN;
    }

    private static async Task PrintRowsAsync(string connectionString)
    {
        await using var connection = new MySqlConnection(connectionString);
        await connection.OpenAsync();
        var parts = new List<string>();
        foreach (var table in new[] { "phpbb_topics", "phpbb_posts", "phpbb_users", "phpbb_atproto_parked_posts" })
        {
            await using var count = new MySqlCommand($"SELECT COUNT(*) FROM {table}", connection);
            parts.Add($"{table} {Convert.ToInt64(await count.ExecuteScalarAsync(), CultureInfo.InvariantCulture):N0}");
        }
        Console.WriteLine("rows: " + string.Join(", ", parts));
    }

    private static async Task<long> CursorAsync(string connectionString)
    {
        await using var connection = new MySqlConnection(connectionString);
        await connection.OpenAsync();
        await using var query = new MySqlCommand("SELECT cursor_value FROM phpbb_atproto_cursors WHERE service = 'firehose'", connection);
        var value = await query.ExecuteScalarAsync();
        return value is null or DBNull ? 0 : Convert.ToInt64(value, CultureInfo.InvariantCulture);
    }

    private static async Task WaitForCursorAsync(string connectionString, long seq, TimeSpan timeout, Process service)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (await CursorAsync(connectionString) < seq)
        {
            if (service.HasExited || DateTime.UtcNow > deadline) throw new InvalidOperationException("the service did not reach the cursor");
            await Task.Delay(10);
        }
    }

    private static string FindServiceAssembly()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (!File.Exists(Path.Combine(dir.FullName, "AtSync.sln"))) continue;
            var configuration = AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
            var path = Path.Combine(dir.FullName, "AtSync.Firehose", "bin", configuration, "net10.0", "AtSync.Firehose.dll");
            return File.Exists(path) ? path : throw new FileNotFoundException("build AtSync.Firehose first", path);
        }
        throw new InvalidOperationException("no AtSync.sln above the benchmark");
    }

    private static string LoadAverage() => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "?";

    /// <summary>A loopback relay serving <paramref name="frames"/> (paced at <paramref name="rate"/> frames/s when not 0), with a log of send times.</summary>
    private static async Task<BenchStream> StartRelayAsync(List<(long Seq, byte[] Frame)> frames, double rate = 0)
    {
        var relay = await LoopbackRelay.StartAsync("/xrpc/com.atproto.sync.subscribeRepos");
        var log = new SendLog(frames);
        relay.Rate = rate;
        relay.FrameSent = log.Record;
        relay.Publish(frames);
        return new BenchStream(relay, log);
    }

    private sealed record BenchStream(LoopbackRelay Relay, SendLog Sent) : IAsyncDisposable
    {
        public Uri Url => Relay.Url;

        public ValueTask DisposeAsync() => Relay.DisposeAsync();
    }

    /// <summary>When each frame was first sent (<see cref="Stopwatch"/> timestamps), by its index in the stream.</summary>
    private sealed class SendLog(List<(long Seq, byte[] Frame)> frames)
    {
        private readonly Dictionary<long, int> _index = frames.Select((f, i) => (f.Seq, i)).ToDictionary(p => p.Seq, p => p.i);

        public long[] Seqs { get; } = [.. frames.Select(f => f.Seq)];
        public long[] SentAt { get; } = new long[frames.Count];
        public long FirstSentAt { get; private set; }
        public long LastSentSeq { get; private set; }

        public void Record(long seq)
        {
            var now = Stopwatch.GetTimestamp();
            if (FirstSentAt == 0) FirstSentAt = now;
            if (_index.TryGetValue(seq, out var i) && SentAt[i] == 0) SentAt[i] = now;
            LastSentSeq = seq;
        }
    }

    /// <summary>A fresh database with phpBB's tables, the AtSync schema and one forum mapped to the board.</summary>
    private static async Task<string> CreateDatabaseAsync(MariaDbServer server)
    {
        var database = await server.CreateDatabaseAsync();
        await using var dataSource = new MySqlDataSource(database.ConnectionString);
        await new SchemaMigrator(dataSource, database.Tables, TimeProvider.System, NullLogger<SchemaMigrator>.Instance)
            .MigrateAsync(SchemaMigrations.All, CancellationToken.None);
        await using var db = new MySqlConnection(database.ConnectionString);
        await db.OpenAsync();
        await using var forum = new MySqlCommand("""
            INSERT INTO phpbb_forums (forum_name, forum_parents, forum_desc, forum_rules, forum_type) VALUES ('Bench', '', '', '', 1);
            INSERT INTO phpbb_atproto_forums (forum_id, at_uri, at_cid, slug) VALUES (LAST_INSERT_ID(), @uri, '', 'bench');
            """, db);
        forum.Parameters.AddWithValue("@uri", BoardUri);
        await forum.ExecuteNonQueryAsync();
        return database.ConnectionString;
    }
}
