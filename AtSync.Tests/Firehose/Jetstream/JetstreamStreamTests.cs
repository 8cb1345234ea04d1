using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using AtSync.AtProto.Crypto;
using AtSync.Core.Forum;
using AtSync.Firehose;
using AtSync.Firehose.Ingest.Jetstream;
using AtSync.Firehose.Verify.Jetstream;
using AtSync.Testing;
using AtSync.Testing.Synthetic;
using AtSync.Tests.Infrastructure;

namespace AtSync.Tests.Firehose.Jetstream;

/// <summary>
/// The Firehose with <c>FIREHOSE_SOURCE=jetstream</c> end to end: a loopback Jetstream serving v1 events of repositories
/// that a loopback PDS proves, into phpBB's tables in a real MariaDB; the same records through the relay path into
/// another database; the two compared row by row.
/// </summary>
public sealed partial class JetstreamStreamTests : IAsyncLifetime
{
    private static readonly string BoardUri = $"at://{FirehoseHarness.ForumDid}/net.vza.forum.board/3kboardgeneral";
    private static readonly TimeSpan Rewind = TimeSpan.FromSeconds(1);

    private readonly SigningKey _key = SigningKey.Generate(KeyCurve.Secp256k1);
    private ForumRepositories _repos = null!;
    private LoopbackPlc _plc = null!;
    private LoopbackRecordPds _pds = null!;
    private LoopbackJetstream _jetstream = null!;

    public async Task InitializeAsync()
    {
        _repos = new ForumRepositories(_key);
        _plc = await LoopbackPlc.StartAsync(_key.PublicKey);
        _pds = await LoopbackRecordPds.StartAsync(_repos);
        _plc.DefaultPds = _pds.BaseUri;
        for (var i = 0; i < 6; i++) _plc.Handles[ForumNetwork.Author(i)] = $"author{i}.example.com";
        _jetstream = await LoopbackJetstream.StartAsync(JetstreamDictionary.Dictionary);
    }

    public async Task DisposeAsync()
    {
        await _jetstream.DisposeAsync();
        await _pds.DisposeAsync();
        await _plc.DisposeAsync();
        _key.Dispose();
    }

    private async Task<FirehoseHarness> StartJetstreamAsync(TestDatabase database, bool compress, bool verify = true)
    {
        var subscriptions = _jetstream.Subscriptions;
        var firehose = await FirehoseHarness.StartAsync(database, new Uri("ws://127.0.0.1:9"), plcUrl: _plc.BaseUri, extra: new Dictionary<string, string?>
        {
            [FirehoseOptions.SourceSetting] = "jetstream",
            [JetstreamOptions.UrlSetting] = _jetstream.Url.ToString(),
            ["Jetstream:Compress"] = compress ? "true" : "false",
            ["Jetstream:VerifyRecords"] = verify ? "true" : "false",
            ["Jetstream:CursorRewind"] = Rewind.ToString("c", CultureInfo.InvariantCulture),
            ["Jetstream:AllowedPdsHosts:0"] = "127.0.0.1",
            // Quiet stretches between test steps are no stall: reconnects happen only where a test makes them.
            ["Firehose:IdleTimeout"] = "00:00:30",
        });
        await _jetstream.WaitForSubscriptionAsync(subscriptions);
        return firehose;
    }

    /// <summary>
    /// Publishes each step's Jetstream events and waits until the Firehose committed them, so the PDS is asked while it
    /// is at that step (a PDS proves its current state; a later edit would otherwise supersede the event being checked).
    /// </summary>
    private async Task<List<NetworkStep>> StreamInStepAsync(FirehoseHarness firehose, IEnumerable<NetworkStep> steps)
    {
        var taken = new List<NetworkStep>();
        foreach (var step in steps)
        {
            taken.Add(step);
            _jetstream.Publish(step.JetstreamEvents);
            if (Delivered(step)) await firehose.WaitForCursorAsync(FirehoseStreams.JetstreamService, step.TimeUs);
        }
        return taken;
    }

    /// <summary>What passes Jetstream's filter: forum commits, identity and account events.</summary>
    private static bool Delivered(NetworkStep step) => step.Forum || !Encoding.UTF8.GetString(step.JetstreamEvents[0]).Contains("\"kind\":\"commit\"", StringComparison.Ordinal);

    /// <summary>The same records through the relay path (signed frames, the same PLC directory) into another database.</summary>
    private async Task<string> RelaySnapshotAsync(IReadOnlyList<NetworkStep> steps)
    {
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync();
        await FirehoseHarness.PrepareForumAsync(database, BoardUri);
        await using var relay = await LoopbackRelay.StartAsync(FirehoseStreams.SubscribeReposPath);
        relay.Publish(steps.Select(s => (s.Seq, s.RelayFrame)));
        await using var firehose = await FirehoseHarness.StartAsync(database, relay.Url, plcUrl: _plc.BaseUri);
        await firehose.WaitForCursorAsync(FirehoseStreams.RepoService, steps[^1].Seq);
        return WithoutCursors(await DatabaseSnapshot.TakeAsync(database));
    }

    /// <summary>Stream positions differ by definition (relay seq, Jetstream µs): the cursor rows and a parked reply's seq are left out.</summary>
    private static string WithoutCursors(string snapshot) => ParkedSeq().Replace(CursorSection().Replace(snapshot, ""), "| seq=* |");

    [GeneratedRegex(@"\| seq=[0-9]+ \|")]
    private static partial Regex ParkedSeq();

    [GeneratedRegex(@"## cursors\r?\n(?:[^#].*\r?\n)*")]
    private static partial Regex CursorSection();

    [Fact]
    public async Task Forum_events_from_jetstream_land_in_phpbb_exactly_as_the_relay_path_lands_them()
    {
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync();
        await FirehoseHarness.PrepareForumAsync(database, BoardUri);
        List<NetworkStep> steps;
        long proofs;
        await using (var firehose = await StartJetstreamAsync(database, compress: true))
        {
            steps = await StreamInStepAsync(firehose, ForumNetwork.Generate(_repos, BoardUri, 160));
            proofs = _pds.Requests.Count;
            Assert.Equal(0, FirehoseHarness.Sum(firehose.DecodeErrors));
            Assert.DoesNotContain(firehose.Skipped.GetMeasurementSnapshot(), m => m.Tags.TryGetValue("reason", out var r)
                && r is string reason && (reason.StartsWith("proof_", StringComparison.Ordinal) || reason.StartsWith("record_", StringComparison.Ordinal)));
            Assert.True(FirehoseHarness.Sum(firehose.ForumOps, "action", "topic") >= 10);
            Assert.True(FirehoseHarness.Sum(firehose.ForumOps, "action", "edit") >= 3);
            Assert.True(FirehoseHarness.Sum(firehose.ForumOps, "action", "delete") >= 1);
            Assert.True(FirehoseHarness.Sum(firehose.ForumOps, "action", "unparked") >= 1);
        }
        // Every forum event was proven by the PDS, and only forum events (plus identity and account) crossed the wire.
        var forumEvents = steps.Where(s => s.Forum).Sum(s => s.JetstreamEvents.Count);
        Assert.Equal(forumEvents, proofs);
        Assert.Equal(steps.Count(Delivered), _jetstream.EventsSent);
        Assert.Contains("compress=true", Assert.Single(_jetstream.Queries), StringComparison.Ordinal);
        Assert.Contains("wantedCollections=net.vza.forum.%2A", _jetstream.Queries[0], StringComparison.Ordinal);

        var jetstreamRows = WithoutCursors(await DatabaseSnapshot.TakeAsync(database));
        Assert.Contains("Topic ", jetstreamRows, StringComparison.Ordinal);
        Assert.Equal(await RelaySnapshotAsync(steps), jetstreamRows);
    }

    [Fact]
    public async Task Refused_events_are_counted_by_reason_and_never_reach_phpbb()
    {
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync();
        await FirehoseHarness.PrepareForumAsync(database, BoardUri);
        var board = new StrongRef(BoardUri, "bafyreib2rxk3rybk3aobmv5cjuql3bm2twh4jo5uxgf5vadynilrvz6qcy");
        var time = new DateTimeOffset(2026, 7, 4, 15, 0, 0, TimeSpan.Zero);
        var alice = ForumNetwork.Author(0);
        ForumPostRecord Topic(string text) => new(text, "2026-07-04T14:59:00.000Z", board, "Subject " + text, null, null, null);
        byte[] Json(ForumRepositories.Written w) => Assert.Single(w.JetstreamEvents);

        var good = _repos.Commit(1, alice, time, ($"{ForumLexicon.Post}/3ktopic00001", ForumFrameFactory.PostRecord(Topic("good"))));
        var other = _repos.Commit(2, alice, time.AddSeconds(1), ($"{ForumLexicon.Post}/3ktopic00002", ForumFrameFactory.PostRecord(Topic("proof of another"))));
        _pds.Faults[$"at://{alice}/{ForumLexicon.Post}/3ktopic00002"] = RecordFault.OtherRecord;
        var tampered = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(
            Json(_repos.Commit(3, alice, time.AddSeconds(2), ($"{ForumLexicon.Post}/3ktopic00003", ForumFrameFactory.PostRecord(Topic("honest")))))).Replace("honest", "forged", StringComparison.Ordinal));
        // Self-consistent events for records the author's repository does not hold (made in a repository of another key).
        using var otherKey = SigningKey.Generate(KeyCurve.Secp256k1);
        var elsewhere = new ForumRepositories(otherKey);
        elsewhere.Commit(9, alice, time, ($"{ForumLexicon.Post}/3ktopic00001", ForumFrameFactory.PostRecord(Topic("x"))));
        var wrongCid = elsewhere.Commit(10, alice, time.AddSeconds(3), ($"{ForumLexicon.Post}/3ktopic00001", ForumFrameFactory.PostRecord(Topic("not what alice wrote"))));
        var missing = elsewhere.Commit(11, alice, time.AddSeconds(4), ($"{ForumLexicon.Post}/3ktopic00099", ForumFrameFactory.PostRecord(Topic("never written"))));
        static byte[] WithRev(byte[] json, string rev) =>
            Encoding.UTF8.GetBytes(RevField().Replace(Encoding.UTF8.GetString(json), $"\"rev\":\"{rev}\""));
        var rev = AtSync.AtProto.Syntax.Tid.FromParts(time.ToUnixTimeMilliseconds() * 1000 - 1, 0).ToString();
        // No cursor yet: a first start is live, so the events go out once it is subscribed.
        await using var firehose = await StartJetstreamAsync(database, compress: false);
        _jetstream.Publish([Json(good), Json(other), tampered, WithRev(Json(wrongCid), rev), WithRev(Json(missing), rev)]);
        await WaitForSkipsAsync(firehose, 4);
        Assert.Equal(1, FirehoseHarness.Sum(firehose.Skipped, "reason", RecordRefusals.Tampered));
        Assert.Equal(1, FirehoseHarness.Sum(firehose.Skipped, "reason", RecordRefusals.CidMismatch));
        Assert.Equal(1, FirehoseHarness.Sum(firehose.Skipped, "reason", RecordRefusals.NotFound));
        Assert.Equal(1, firehose.Skipped.GetMeasurementSnapshot().Where(m => m.Tags["reason"] is string r && r.StartsWith("proof_", StringComparison.Ordinal)).Sum(m => m.Value));
        Assert.Equal(1, FirehoseHarness.Sum(firehose.ForumOps, "action", "topic"));
        var t = database.Tables;
        Assert.Equal("Subject good", await database.ScalarAsync<string>($"SELECT topic_title FROM {t.PhpbbTopics}"));
        Assert.Equal(1L, await database.ScalarAsync<long>($"SELECT COUNT(*) FROM {t.PhpbbPosts}"));
    }

    private async Task WaitForSkipsAsync(FirehoseHarness firehose, long count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            var refused = firehose.Skipped.GetMeasurementSnapshot()
                .Where(m => m.Tags["reason"] is string r && (r.StartsWith("proof_", StringComparison.Ordinal) || r.StartsWith("record_", StringComparison.Ordinal)))
                .Sum(m => m.Value);
            if (refused >= count) return;
            await Task.Delay(50);
        }
        throw new TimeoutException("the refusals were not counted");
    }

    [GeneratedRegex("\"rev\":\"[a-z2-7]+\"")]
    private static partial Regex RevField();

    [Fact]
    public async Task After_a_reconnect_and_a_restart_it_resumes_from_its_cursor_rewound_and_applies_everything_once()
    {
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync();
        await FirehoseHarness.PrepareForumAsync(database, BoardUri);
        using var network = ForumNetwork.Generate(_repos, BoardUri, 150, seed: 7).GetEnumerator();
        IEnumerable<NetworkStep> Take(int n)
        {
            for (var i = 0; i < n && network.MoveNext(); i++) yield return network.Current;
        }
        var steps = new List<NetworkStep>();
        long? cursorAtStop;
        await using (var firehose = await StartJetstreamAsync(database, compress: false))
        {
            steps.AddRange(await StreamInStepAsync(firehose, Take(50)));
            var before = await firehose.CursorAsync(FirehoseStreams.JetstreamService);
            var connections = _jetstream.Queries.Count;
            _jetstream.DropConnections();
            steps.AddRange(await StreamInStepAsync(firehose, Take(50)));
            Assert.True(FirehoseHarness.Sum(firehose.Reconnects) >= 1);
            var resumed = CursorOf(_jetstream.Queries[connections]);
            Assert.InRange(resumed, before!.Value - (long)Rewind.TotalMicroseconds, before.Value);
            cursorAtStop = await firehose.CursorAsync(FirehoseStreams.JetstreamService);
        }
        Assert.Equal(steps.Where(Delivered).Max(s => s.TimeUs), cursorAtStop);

        var restartedAt = _jetstream.Queries.Count;
        await using (var firehose = await StartJetstreamAsync(database, compress: false))
        {
            Assert.Equal(cursorAtStop!.Value - (long)Rewind.TotalMicroseconds, CursorOf(_jetstream.Queries[restartedAt]));
            steps.AddRange(await StreamInStepAsync(firehose, Take(50)));
        }
        Assert.DoesNotContain("compress", string.Concat(_jetstream.Queries), StringComparison.Ordinal);
        // Replays (the rewound windows) changed nothing: the rows are those of one uninterrupted relay pass.
        Assert.Equal(await RelaySnapshotAsync(steps), WithoutCursors(await DatabaseSnapshot.TakeAsync(database)));
    }

    private static long CursorOf(string query) =>
        long.Parse(Regex.Match(query, "cursor=([0-9]+)").Groups[1].Value, CultureInfo.InvariantCulture);
}
