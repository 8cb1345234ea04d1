using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using AtSync.Core.Storage;
using AtSync.Firehose;
using AtSync.Core.Forum;
using AtSync.Testing;
using AtSync.Testing.Synthetic;
using AtSync.Tests.Firehose;
using MySqlConnector;

namespace AtSync.Tests.Deployment.Live;

public sealed partial class LiveComposeDeploymentTests
{
    private const int FinalTopics = 6000;

    /// <summary>
    /// <c>docker compose down</c> while the relay streams new topics (about 250 a second for 24 s, so the stream goes on
    /// past the stop): the Firehose must flush its batch and save the
    /// cursor of exactly the last event it applied. Checked on the volume with only MySQL started again: the stored
    /// cursor equals the highest seq whose topic is in the database, every topic up to it is there and none after it
    /// (and the shutdown log line names the same cursor). Then <c>up -d</c>: it resumes there and applies the rest once.
    /// </summary>
    private async Task DownWhileStreamingAsync(ComposeDeployment deployment, ForumFrameFactory factory, LoopbackRelay relay, long afterSeq, AtSyncTables tables)
    {
        var db = deployment.RootConnectionString;
        var board = new StrongRef(BoardUri, "bafyreib2rxk3rybk3aobmv5cjuql3bm2twh4jo5uxgf5vadynilrvz6qcy");
        var start = new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);
        var topics = new List<(long Seq, byte[] Frame, string Uri)>();
        for (var i = 0; i < FinalTopics; i++)
        {
            var seq = afterSeq + 1 + i;
            // did:plc identifiers are 24 base32 characters.
            var author = "did:plc:finalauthoraaaaaaaa" + (char)('a' + (i % 5)) + "aaaa";
            var built = factory.Post(seq, author, ForumFrameFactory.Rkey(seq),
                new ForumPostRecord($"Final topic text {seq}", null, board, $"Final topic {seq}", null, null, null), start.AddSeconds(i));
            topics.Add((seq, built.Frame, built.Uri));
        }
        var firehose = await deployment.StateAsync("firehose");
        var follow = deployment.Docker.DockerAsync(["logs", "--follow", firehose.Id], TimeSpan.FromSeconds(120));
        var publisher = Task.Run(async () =>
        {
            for (var i = 0; i < topics.Count; i += 25)
            {
                relay.Publish(topics.Skip(i).Take(25).Select(t => (t.Seq, t.Frame)));
                await Task.Delay(100);
            }
        });
        var midStream = topics[FinalTopics / 50].Seq;
        await DeploymentDatabase.WaitForCursorAsync(db, tables, FirehoseStreams.RepoService, midStream, TimeSpan.FromSeconds(120));
        var down = Stopwatch.StartNew();
        (await deployment.ComposeAsync(["down"], TimeSpan.FromMinutes(2))).EnsureSuccess();
        _figures.Seconds("`docker compose down` while the relay streams", down.Elapsed.TotalSeconds, 30);
        await publisher;
        var log = StripAnsi((await follow).Output);
        var logged = Regex.Matches(log, @"Stream firehose: stopped; batch flushed, cursor (\d+) saved").Select(m => m.Groups[1].Value).LastOrDefault();

        // Only MySQL, on the same volume: what the Firehose left at shutdown.
        (await deployment.ComposeAsync(["up", "--detach", "--pull", "never", "mysql"], TimeSpan.FromMinutes(2))).EnsureSuccess();
        await deployment.WaitForHealthAsync(["mysql"], "healthy", TimeSpan.FromMinutes(2));
        var saved = await DeploymentDatabase.CursorAsync(db, tables, FirehoseStreams.RepoService) ?? -1;
        var present = await PresentUrisAsync(db, tables, topics.Select(t => t.Uri));
        var applied = topics.Where(t => present.Contains(t.Uri)).Select(t => t.Seq).ToList();
        var lastApplied = applied.Count == 0 ? afterSeq : applied.Max();
        var gaps = topics.Count(t => t.Seq <= saved && !present.Contains(t.Uri));
        var beyond = topics.Count(t => t.Seq > saved && present.Contains(t.Uri));
        _figures.Check("cursor saved at shutdown = last applied event (seq of the last streamed topic in the database)",
            saved.ToString(CultureInfo.InvariantCulture), $"= {lastApplied}, > {afterSeq}", saved == lastApplied && saved > afterSeq);
        // Where in the stream it stops depends on timing (it applies what it had read before it stops): reported.
        _figures.Info("topics streamed / applied before the stop", $"{topics.Count} / {applied.Count}");
        _figures.Count("events at or below the saved cursor missing from the database", gaps, 0);
        _figures.Count("events above the saved cursor applied anyway", beyond, 0);
        _figures.Check("the Firehose's shutdown log line names that cursor", logged ?? "(no batch pending at the stop: no line)", $"= {saved} when logged",
            logged is null || logged == saved.ToString(CultureInfo.InvariantCulture));

        // Everything up again: it resumes at the saved cursor and applies the rest exactly once.
        var up = Stopwatch.StartNew();
        (await deployment.ComposeAsync(["up", "--detach", "--pull", "never"], TimeSpan.FromMinutes(3))).EnsureSuccess();
        await deployment.WaitForHealthAsync(ComposeDeployment.Services, "healthy", TimeSpan.FromMinutes(3));
        _figures.Seconds("`up -d` after the streaming `down` → all healthy", up.Elapsed.TotalSeconds, 120);
        // What is asserted is that the rest is applied exactly once, not how fast: the catch-up (5,700 topics) shares
        // two cores with whatever else the suite runs at that moment (the AppHost tests under DCP), so it is given time
        // and its duration is reported.
        var catchUp = Stopwatch.StartNew();
        try
        {
            await DeploymentDatabase.WaitForCursorAsync(db, tables, FirehoseStreams.RepoService, topics[^1].Seq, TimeSpan.FromSeconds(360));
        }
        catch (TimeoutException)
        {
            await LogFirehoseStateAsync(deployment, relay);
            throw;
        }
        _figures.Seconds("after `up`: the Firehose applied the rest of the stream", catchUp.Elapsed.TotalSeconds, 360);
        var resumed = relay.Cursors[^1];
        _figures.Check("after `up`: the Firehose asked the relay for cursor", resumed ?? "none", $"= {saved}", resumed == saved.ToString(CultureInfo.InvariantCulture));
        var final = await PresentUrisAsync(db, tables, topics.Select(t => t.Uri));
        _figures.Count("streamed topics in the database after resuming", final.Count, FinalTopics);
        var duplicates = await DeploymentDatabase.CountAsync(db, $"SELECT COUNT(*) FROM (SELECT at_uri FROM {tables.Posts} WHERE at_uri IS NOT NULL GROUP BY at_uri HAVING COUNT(*) > 1) d");
        _figures.Count("AT-URIs stored twice after resuming", duplicates, 0);
    }

    /// <summary>What the Firehose says about itself when it fell behind: its log's tail, its metrics, the relay's view.</summary>
    private async Task LogFirehoseStateAsync(ComposeDeployment deployment, LoopbackRelay relay)
    {
        Log($"relay: {relay.Connections} connections, cursors asked: {string.Join(", ", relay.Cursors.TakeLast(10).Select(c => c ?? "none"))}");
        try
        {
            var log = (await deployment.ComposeAsync(["logs", "--no-color", "--no-log-prefix", "--tail", "150", "firehose"], TimeSpan.FromSeconds(30))).Output;
            Log("firehose log (last 150 lines):\n" + StripAnsi(log));
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            var metrics = await http.GetStringAsync($"http://127.0.0.1:{deployment.Local.FirehosePort}/metrics");
            Log("firehose metrics (atsync_*):\n" + string.Join('\n', metrics.Split('\n').Where(l => l.StartsWith("atsync_", StringComparison.Ordinal))));
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or TimeoutException or InvalidOperationException)
        {
            Log($"firehose state unavailable: {ex.GetType().Name}: {ex.Message}");
        }
    }

    private static async Task<HashSet<string>> PresentUrisAsync(string db, AtSyncTables tables, IEnumerable<string> uris)
    {
        var wanted = uris.ToHashSet(StringComparer.Ordinal);
        var present = new HashSet<string>(StringComparer.Ordinal);
        await using var connection = await DeploymentDatabase.OpenAsync(db);
        await using var command = new MySqlCommand($"SELECT at_uri FROM {tables.Posts} WHERE at_uri LIKE 'at://did:plc:finalauthor%'", connection);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var uri = reader.GetString(0);
            if (wanted.Contains(uri)) present.Add(uri);
        }
        return present;
    }

    /// <summary>Compose writes terminal control sequences (e.g. ESC[2K) before each log line even with --no-color.</summary>
    public static string StripAnsi(string text) => Regex.Replace(text, @"\x1B\[[0-9;?]*[A-Za-z]", "");
}
