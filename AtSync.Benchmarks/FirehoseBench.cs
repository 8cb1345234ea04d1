extern alias firehose;

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using firehose::AtSync.Firehose.Synthetic;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using MySqlConnector;

namespace AtSync.Benchmarks;

/// <summary>
/// <c>bench-firehose [frames] [forumShare] [pacedRate]</c>: the whole Firehose service as a process (<c>dotnet AtSync.Firehose.dll</c>)
/// reading a synthetic stream (≥ 100,000 frames of mixed forum and ordinary traffic) from a loopback relay over a
/// real WebSocket, into a throwaway MariaDB. Prints events/s end to end, frame-to-commit latency percentiles (from the
/// relay's send of a frame to the moment its seq is visible as the committed cursor, polled every 5 ms), the service's
/// peak RSS (VmHWM), its CPU time, and the time SIGTERM takes to stop it, once idle and once mid-stream. A second run paces
/// the relay below saturation (a live relay's steady rate) so the latency is not that of a queued backlog.
/// Uses <c>ATSYNC_TEST_MYSQL</c> (an admin connection string) when set, else starts <c>mariadbd</c> itself.
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

        await using var database = await BenchDatabase.StartAsync();
        var firehoseDll = FindServiceAssembly();

        // Run 1: the whole stream, then an idle SIGTERM.
        var connectionString = await database.CreateAsync("bench_full");
        await using (var relay = await BenchRelay.StartAsync(stream))
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
        var pacedConnection = await database.CreateAsync("bench_paced");
        await using (var relay = await BenchRelay.StartAsync(pacedFrames, pacedRate))
        {
            using var service = StartService(firehoseDll, pacedConnection, relay.Url);
            var result = await MeasureAsync(relay, pacedConnection, service, pacedFrames[^1].Seq, TimeSpan.FromMinutes(10));
            Console.WriteLine($"paced at {pacedRate:N0} events/s ({pacedFrames.Count:N0} events): frame-to-commit p50 {result.Percentile(0.50):0} ms, p99 {result.Percentile(0.99):0} ms, max {result.Percentile(1.0):0} ms; peak RSS {PeakRssMiB(service.Id):0.0} MiB");
            await TerminateAsync(service);
        }

        // Run 3: SIGTERM in the middle of the stream: time to exit, and the cursor it saved.
        var midConnection = await database.CreateAsync("bench_stop");
        await using (var relay = await BenchRelay.StartAsync(stream))
        {
            using var service = StartService(firehoseDll, midConnection, relay.Url);
            var half = stream[stream.Count / 2].Seq;
            await WaitForCursorAsync(midConnection, half, TimeSpan.FromMinutes(10), service);
            var stopTime = await TerminateAsync(service);
            var saved = await CursorAsync(midConnection);
            Console.WriteLine($"shutdown (SIGTERM, mid-stream at ~{half:N0}): {stopTime.TotalMilliseconds:0} ms, exit code {service.ExitCode}, cursor saved {saved:N0}, relay sent up to {relay.LastSentSeq:N0}");
        }
        return 0;
    }

    private sealed record Measurement(TimeSpan Elapsed, double[] LatenciesMs)
    {
        public double Percentile(double p) => LatenciesMs.Length == 0 ? double.NaN : LatenciesMs[Math.Min(LatenciesMs.Length - 1, (int)Math.Ceiling(p * LatenciesMs.Length) - 1)];
    }

    private static async Task<Measurement> MeasureAsync(BenchRelay relay, string connectionString, Process service, long lastSeq, TimeSpan timeout)
    {
        var latencies = new List<double>(relay.FrameCount);
        var deadline = DateTime.UtcNow + timeout;
        await using var connection = new MySqlConnection(connectionString);
        await connection.OpenAsync();
        await using var query = new MySqlCommand("SELECT cursor_value FROM phpbb_atproto_cursors WHERE service = 'firehose'", connection);
        var index = 0;
        var seqs = relay.Seqs;
        while (true)
        {
            if (service.HasExited) throw new InvalidOperationException($"the service exited with {service.ExitCode}");
            if (DateTime.UtcNow > deadline) throw new TimeoutException("the service did not catch up");
            var value = await query.ExecuteScalarAsync();
            var now = Stopwatch.GetTimestamp();
            var cursor = value is null or DBNull ? 0 : Convert.ToInt64(value, CultureInfo.InvariantCulture);
            while (index < seqs.Length && seqs[index] <= cursor)
            {
                var sent = relay.SentAt[index];
                if (sent != 0) latencies.Add(Stopwatch.GetElapsedTime(sent, now).TotalMilliseconds);
                index++;
            }
            if (cursor >= lastSeq) break;
            await Task.Delay(5);
        }
        var elapsed = Stopwatch.GetElapsedTime(relay.FirstSentAt, relay.SentAt[^1] > 0 ? Stopwatch.GetTimestamp() : Stopwatch.GetTimestamp());
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
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{FreePort()}";
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

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string LoadAverage() => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "?";

    /// <summary>A relay on 127.0.0.1:0 sending the frames after the request's cursor as fast as the reader takes them; records send times.</summary>
    private sealed class BenchRelay : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly List<(long Seq, byte[] Frame)> _frames;

        private BenchRelay(WebApplication app, List<(long Seq, byte[] Frame)> frames, Uri url)
        {
            _app = app;
            _frames = frames;
            Url = url;
            Seqs = [.. frames.Select(f => f.Seq)];
            SentAt = new long[frames.Count];
        }

        public Uri Url { get; }
        public long[] Seqs { get; }
        public long[] SentAt { get; }
        public long FirstSentAt { get; private set; }
        public long LastSentSeq { get; private set; }
        public int FrameCount => _frames.Count;

        /// <summary>Frames per second the relay sends at most (0: as fast as the reader takes them).</summary>
        public double Rate { get; init; }

        public static async Task<BenchRelay> StartAsync(List<(long Seq, byte[] Frame)> frames, double rate = 0)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            var app = builder.Build();
            app.UseWebSockets();
            BenchRelay? self = null;
            app.Map("/xrpc/com.atproto.sync.subscribeRepos", context => self!.ServeAsync(context));
            await app.StartAsync();
            var address = app.Urls.First().Replace("http://", "ws://", StringComparison.Ordinal);
            self = new BenchRelay(app, frames, new Uri(address + "/xrpc/com.atproto.sync.subscribeRepos")) { Rate = rate };
            return self;
        }

        private async Task ServeAsync(HttpContext context)
        {
            if (!context.WebSockets.IsWebSocketRequest)
            {
                context.Response.StatusCode = 400;
                return;
            }
            var after = long.TryParse(context.Request.Query["cursor"], out var cursor) ? cursor : long.MinValue;
            using var socket = await context.WebSockets.AcceptWebSocketAsync();
            var paced = Stopwatch.StartNew();
            var sentHere = 0L;
            try
            {
                for (var i = 0; i < _frames.Count; i++)
                {
                    if (_frames[i].Seq <= after) continue;
                    if (Rate > 0)
                    {
                        var due = TimeSpan.FromSeconds(sentHere / Rate);
                        if (due > paced.Elapsed + TimeSpan.FromMilliseconds(2)) await Task.Delay(due - paced.Elapsed, context.RequestAborted);
                        sentHere++;
                    }
                    await socket.SendAsync(_frames[i].Frame, WebSocketMessageType.Binary, true, context.RequestAborted);
                    var now = Stopwatch.GetTimestamp();
                    if (FirstSentAt == 0) FirstSentAt = now;
                    if (SentAt[i] == 0) SentAt[i] = now;
                    LastSentSeq = _frames[i].Seq;
                }
                await Task.Delay(Timeout.Infinite, context.RequestAborted);
            }
            catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException)
            {
            }
        }

        public async ValueTask DisposeAsync()
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            try { await _app.StopAsync(timeout.Token); } catch (OperationCanceledException) { }
            await _app.DisposeAsync();
        }
    }

    /// <summary>The benchmark's MariaDB: <c>ATSYNC_TEST_MYSQL</c>, or a throwaway <c>mariadbd</c> on a free loopback port.</summary>
    private sealed class BenchDatabase : IAsyncDisposable
    {
        private readonly Process? _server;
        private readonly string? _dataDirectory;
        private readonly string _admin;

        private BenchDatabase(string admin, Process? server, string? dataDirectory)
        {
            _admin = admin;
            _server = server;
            _dataDirectory = dataDirectory;
        }

        public static async Task<BenchDatabase> StartAsync()
        {
            if (Environment.GetEnvironmentVariable("ATSYNC_TEST_MYSQL") is { Length: > 0 } external) return new BenchDatabase(external, null, null);
            var binary = new[] { "/usr/sbin/mariadbd", "/usr/bin/mariadbd", "/usr/sbin/mysqld" }.FirstOrDefault(File.Exists)
                ?? throw new InvalidOperationException("no mariadbd: install mariadb-server or set ATSYNC_TEST_MYSQL");
            var data = Directory.CreateTempSubdirectory("atsync-mariadb-bench-").FullName;
            var install = Process.Start(new ProcessStartInfo("mariadb-install-db", ["--no-defaults", "--user=root", $"--datadir={data}", "--auth-root-authentication-method=socket", "--skip-test-db"])
            { RedirectStandardOutput = true, RedirectStandardError = true })!;
            await install.StandardOutput.ReadToEndAsync();
            await install.WaitForExitAsync();
            var port = FreePort();
            var socket = Path.Combine(data, "mysql.sock");
            var server = Process.Start(new ProcessStartInfo(binary, [
                "--no-defaults", "--user=root", $"--datadir={data}", $"--socket={socket}", $"--port={port}", "--bind-address=127.0.0.1",
                $"--log-error={Path.Combine(data, "error.log")}", "--innodb-flush-log-at-trx-commit=2", "--innodb-buffer-pool-size=256M",
                "--skip-log-bin", "--character-set-server=utf8mb4", "--collation-server=utf8mb4_bin"])
            { RedirectStandardOutput = true, RedirectStandardError = true })!;
            var root = new MySqlConnectionStringBuilder { Server = socket, ConnectionProtocol = MySqlConnectionProtocol.UnixSocket, UserID = "root", Pooling = false }.ConnectionString;
            for (var i = 0; ; i++)
            {
                try
                {
                    await using var connection = new MySqlConnection(root);
                    await connection.OpenAsync();
                    await using var user = new MySqlCommand("CREATE USER 'bench'@'127.0.0.1' IDENTIFIED BY 'bench'; GRANT ALL PRIVILEGES ON *.* TO 'bench'@'127.0.0.1';", connection);
                    await user.ExecuteNonQueryAsync();
                    break;
                }
                catch (MySqlException) when (i < 300)
                {
                    await Task.Delay(100);
                }
            }
            return new BenchDatabase($"Server=127.0.0.1;Port={port};User ID=bench;Password=bench", server, data);
        }

        /// <summary>A fresh database with phpBB's tables, the AtSync schema and one forum mapped to the board.</summary>
        public async Task<string> CreateAsync(string name)
        {
            name = $"{name}_{Environment.ProcessId}";
            await using (var connection = new MySqlConnection(_admin))
            {
                await connection.OpenAsync();
                await using var create = new MySqlCommand($"DROP DATABASE IF EXISTS `{name}`; CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin", connection);
                await create.ExecuteNonQueryAsync();
            }
            var connectionString = new MySqlConnectionStringBuilder(_admin) { Database = name }.ConnectionString;
            using var stream = typeof(BenchDatabase).Assembly.GetManifestResourceStream("phpbb33-schema.sql")!;
            var script = await new StreamReader(stream).ReadToEndAsync();
            await using var db = new MySqlConnection(connectionString);
            await db.OpenAsync();
            foreach (var statement in script.Split(';').Select(s => string.Join('\n', s.Split('\n').Where(l => !l.TrimStart().StartsWith("--", StringComparison.Ordinal))).Trim()).Where(s => s.Length > 0))
            {
                await using var command = new MySqlCommand(statement, db);
                await command.ExecuteNonQueryAsync();
            }
            var tables = new AtSync.Core.Storage.AtSyncTables("phpbb_");
            await new AtSync.Core.Storage.SchemaMigrator(MySqlConnectorDataSource(connectionString), tables, TimeProvider.System,
                Microsoft.Extensions.Logging.Abstractions.NullLogger<AtSync.Core.Storage.SchemaMigrator>.Instance)
                .MigrateAsync(AtSync.Core.Storage.SchemaMigrations.All, CancellationToken.None);
            await using var forum = new MySqlCommand("""
                INSERT INTO phpbb_forums (forum_name, forum_parents, forum_desc, forum_rules, forum_type) VALUES ('Bench', '', '', '', 1);
                INSERT INTO phpbb_atproto_forums (forum_id, at_uri, at_cid, slug) VALUES (LAST_INSERT_ID(), @uri, '', 'bench');
                """, db);
            forum.Parameters.AddWithValue("@uri", BoardUri);
            await forum.ExecuteNonQueryAsync();
            return connectionString;
        }

        private static MySqlDataSource MySqlConnectorDataSource(string connectionString) => new(connectionString);

        public async ValueTask DisposeAsync()
        {
            if (_server is { HasExited: false })
            {
                _server.Kill(entireProcessTree: true);
                await _server.WaitForExitAsync();
            }
            if (_dataDirectory is not null)
            {
                try { Directory.Delete(_dataDirectory, recursive: true); } catch (IOException) { }
            }
        }
    }
}
