extern alias firehose;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using AtSync.AtProto.Crypto;
using AtSync.Testing;
using AtSync.Testing.Synthetic;
using AtSync.Tests.Firehose;
using AtSync.Tests.Infrastructure;
using firehose::AtSync.Firehose;
using firehose::AtSync.Firehose.Ingest.Jetstream;

namespace AtSync.Benchmarks;

/// <summary>
/// <c>bench-jetstream [forumEvents=200] [rate=20] [share=100000]</c>, one run, two parts.
/// (1) Bytes on the wire per forum event and per hour, relay vs Jetstream, when 1 network event in <c>share</c> is a
/// forum event: the relay's from the 150 corpus frames (what <c>subscribeRepos</c> sent byte for byte), Jetstream's from
/// <c>expected_v1.jsonl</c> (the same window as production served it: its identity and account events pass every filter)
/// and from forum events of generated repositories, each as text and as a zstd frame with Jetstream's dictionary, plus
/// the <c>getRecord</c> proof each forum event costs with verification on. The network rate is the corpus window's.
/// (2) Frame-to-commit latency with verification on (and off, for contrast): the Firehose in-process with the Jetstream
/// source, a loopback Jetstream (compressed), the authors' loopback PDS and PLC directory, a throwaway MariaDB.
/// </summary>
internal static class JetstreamBench
{
    /// <summary>WebSocket header of a server message (unmasked): 2 bytes up to 125, 4 up to 65,535, else 10.</summary>
    private static int Framed(int payload) => payload + (payload < 126 ? 2 : payload < 65_536 ? 4 : 10);

    public static async Task<int> RunAsync(string[] args)
    {
        var forumEvents = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 200;
        var rate = args.Length > 1 ? double.Parse(args[1], CultureInfo.InvariantCulture) : 20;
        var share = args.Length > 2 ? double.Parse(args[2], CultureInfo.InvariantCulture) : 100_000;
        Console.WriteLine($"bench-jetstream: 1 forum event per {share:N0} network events; {Environment.ProcessorCount} cores, load average {LoadAverage()}");
        Bandwidth(share);
        await LatencyAsync(forumEvents, rate, verify: true);
        await LatencyAsync(forumEvents, rate, verify: false);
        return 0;
    }

    private static void Bandwidth(double share)
    {
        var frames = CorpusFrames.Load();
        var lines = File.ReadAllLines(Path.Combine(CorpusRoot(), "firehose", "expected_v1.jsonl")).Where(l => l.Length > 0).Select(Encoding.UTF8.GetBytes).ToList();
        using var compressor = JetstreamDictionary.NewCompressor();
        var times = lines.Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("time_us").GetInt64()).ToList();
        var windowSeconds = (times.Max() - times.Min()) / 1e6;
        var networkRate = frames.Length / windowSeconds;
        var relayPerEvent = frames.Average(f => (double)Framed(f.Length));
        var passing = lines.Where(l => !Encoding.UTF8.GetString(l).Contains("\"kind\":\"commit\"", StringComparison.Ordinal)).ToList();
        var passingShare = passing.Count / (double)frames.Length;
        var passingRaw = passing.Average(l => (double)Framed(l.Length));
        var passingZstd = passing.Average(l => (double)Framed(compressor.Wrap(l).Length));
        var allRaw = lines.Average(l => (double)Framed(l.Length));
        var allZstd = lines.Average(l => (double)Framed(compressor.Wrap(l).Length));

        // Forum events and their proofs, from generated repositories (creates, replies, edits, deletes).
        using var key = SigningKey.Generate(KeyCurve.Secp256k1);
        var repos = new ForumRepositories(key);
        var forumRaw = new List<double>();
        var forumZstd = new List<double>();
        var proofs = new List<double>();
        foreach (var step in ForumNetwork.Generate(repos, "at://did:plc:benchforumbenchforumbenc/net.vza.forum.board/3kboard", 2000, authors: 50).Where(s => s.Forum))
        {
            foreach (var json in step.JetstreamEvents)
            {
                forumRaw.Add(Framed(json.Length));
                forumZstd.Add(Framed(compressor.Wrap(json).Length));
                using var doc = System.Text.Json.JsonDocument.Parse(json);
                var commit = doc.RootElement.GetProperty("commit");
                var car = repos.RecordCar(step.Did, commit.GetProperty("collection").GetString()!, commit.GetProperty("rkey").GetString()!)!;
                // Request line and headers both ways (HTTP/1.1, as measured on the loopback PDS: ~250 bytes) + the CAR.
                proofs.Add(car.Length + 250);
            }
        }
        var iaPerForum = share * passingShare;
        double PerForum(bool zstd, bool verify) =>
            (zstd ? forumZstd.Average() : forumRaw.Average()) + (verify ? proofs.Average() : 0) + iaPerForum * (zstd ? passingZstd : passingRaw);
        var forumPerHour = networkRate * 3600 / share;

        Console.WriteLine();
        Console.WriteLine($"corpus window: {frames.Length} relay frames in {windowSeconds:0.000} s of Jetstream time = {networkRate:N0} network events/s ({networkRate * 3600:N0}/h); forum events/h at this share: {forumPerHour:0.##}");
        Console.WriteLine($"relay frame, mean incl. WebSocket header: {relayPerEvent:N0} B; Jetstream v1 event (corpus, all kinds): {allRaw:N0} B text, {allZstd:N0} B zstd+dict ({allRaw / allZstd:0.0}x)");
        Console.WriteLine($"identity/account events (pass every filter): {passingShare:P2} of network events, {passingRaw:N0} B text, {passingZstd:N0} B zstd");
        Console.WriteLine($"forum event (generated, n={forumRaw.Count}): {forumRaw.Average():N0} B text, {forumZstd.Average():N0} B zstd; its getRecord proof: {proofs.Average():N0} B");
        Console.WriteLine();
        Console.WriteLine("| source | bytes per forum event | bytes per hour | per day |");
        Console.WriteLine("|---|---:|---:|---:|");
        var relayPerForum = relayPerEvent * share;
        Row("relay (subscribeRepos)", relayPerForum, relayPerForum * forumPerHour);
        Row("Jetstream, text, verified", PerForum(zstd: false, verify: true), PerForum(zstd: false, verify: true) * forumPerHour);
        Row("Jetstream, zstd, verified", PerForum(zstd: true, verify: true), PerForum(zstd: true, verify: true) * forumPerHour);
        Row("Jetstream, zstd, unverified", PerForum(zstd: true, verify: false), PerForum(zstd: true, verify: false) * forumPerHour);
        Console.WriteLine($"(of Jetstream's bytes, identity/account events are {iaPerForum * passingZstd / PerForum(zstd: true, verify: true):P0} with zstd: {iaPerForum:N0} of them per forum event)");
    }

    private static void Row(string name, double perEvent, double perHour) =>
        Console.WriteLine($"| {name} | {Human(perEvent)} | {Human(perHour)} | {Human(perHour * 24)} |");

    private static string Human(double bytes) => bytes switch
    {
        >= 1e9 => $"{bytes / 1e9:0.00} GB",
        >= 1e6 => $"{bytes / 1e6:0.00} MB",
        >= 1e3 => $"{bytes / 1e3:0.0} kB",
        _ => $"{bytes:0} B",
    };

    private static async Task LatencyAsync(int count, double rate, bool verify)
    {
        using var key = SigningKey.Generate(KeyCurve.Secp256k1);
        var repos = new ForumRepositories(key);
        await using var plc = await LoopbackPlc.StartAsync(key.PublicKey);
        await using var pds = await LoopbackRecordPds.StartAsync(repos);
        plc.DefaultPds = pds.BaseUri;
        await using var jetstream = await LoopbackJetstream.StartAsync(JetstreamDictionary.Dictionary);
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync();
        const string boardUri = "at://" + FirehoseHarness.ForumDid + "/net.vza.forum.board/3kboardgeneral";
        await FirehoseHarness.PrepareForumAsync(database, boardUri);
        await using var harness = await FirehoseHarness.StartAsync(database, new Uri("ws://127.0.0.1:9"), plcUrl: plc.BaseUri, extra: new Dictionary<string, string?>
        {
            [FirehoseOptions.SourceSetting] = "jetstream",
            [JetstreamOptions.UrlSetting] = jetstream.Url.ToString(),
            ["Jetstream:VerifyRecords"] = verify ? "true" : "false",
            ["Jetstream:AllowedPdsHosts:0"] = "127.0.0.1",
            ["Firehose:IdleTimeout"] = "00:01:00",
            ["LOG_LEVEL"] = "Error",
        });
        await jetstream.WaitForSubscriptionAsync(0);
        var steps = TopicsAndReplies(repos, boardUri, count);
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < steps.Count; i++)
        {
            var due = TimeSpan.FromSeconds(i / rate);
            if (due > clock.Elapsed) await Task.Delay(due - clock.Elapsed);
            jetstream.Publish(steps[i].JetstreamEvents);
        }
        await harness.WaitForCursorAsync(FirehoseStreams.JetstreamService, steps[^1].TimeUs, TimeSpan.FromMinutes(5));
        var latencies = harness.FrameToCommit.GetMeasurementSnapshot().Select(m => m.Value).Order().ToArray();
        double P(double q) => latencies[Math.Min(latencies.Length - 1, (int)(q * latencies.Length))];
        Console.WriteLine();
        Console.WriteLine($"frame-to-commit, verification {(verify ? "on" : "off")}: {latencies.Length} forum events at {rate:0} /s (zstd): p50 {P(0.5):0.0} ms, p90 {P(0.9):0.0} ms, p99 {P(0.99):0.0} ms, max {latencies[^1]:0.0} ms; getRecord calls {pds.Requests.Count}; applied {FirehoseHarness.Sum(harness.ForumOps)}; wire {jetstream.BytesSent:N0} B");
    }

    /// <summary>
    /// Topics and replies by 20 authors (no edits or deletes: a PDS proves its current state, so a later change written
    /// before an event is checked would supersede it; the tests cover those in step).
    /// </summary>
    private static List<ForumRepositories.Written> TopicsAndReplies(ForumRepositories repos, string boardUri, int count)
    {
        var random = new Random(3);
        var board = new AtSync.Core.Forum.StrongRef(boardUri, "bafyreib2rxk3rybk3aobmv5cjuql3bm2twh4jo5uxgf5vadynilrvz6qcy");
        var topics = new List<AtSync.Core.Forum.StrongRef>();
        var written = new List<ForumRepositories.Written>();
        var start = DateTimeOffset.UtcNow;
        for (var i = 0; i < count; i++)
        {
            var did = ForumNetwork.Author(random.Next(20));
            var rkey = ForumFrameFactory.Rkey(i + 1);
            var reply = topics.Count > 0 && random.NextDouble() < 0.75 ? topics[random.Next(topics.Count)] : null;
            var record = new AtSync.Core.Forum.ForumPostRecord($"Post {i} with some [b]BBCode[/b] text of a usual length, a sentence or two.",
                "2026-07-04T15:00:00.000Z", board, reply is null ? $"Topic {i}" : null, reply, reply, null);
            var bytes = ForumFrameFactory.PostRecord(record);
            var commit = repos.Commit(i + 1, did, start.AddMilliseconds(i), ($"{AtSync.Core.Forum.ForumLexicon.Post}/{rkey}", bytes));
            if (reply is null) topics.Add(new AtSync.Core.Forum.StrongRef($"at://{did}/{AtSync.Core.Forum.ForumLexicon.Post}/{rkey}", commit.Cids[0]!));
            written.Add(commit);
        }
        return written;
    }

    private static string CorpusRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "AtSync.sln"))) dir = dir.Parent;
        return Path.Combine(dir?.FullName ?? throw new InvalidOperationException("AtSync.sln not found above the benchmark"), "testdata");
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "?";
}
