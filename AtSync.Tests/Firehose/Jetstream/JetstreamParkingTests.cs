using System.Globalization;
using AtSync.AtProto.Crypto;
using AtSync.Core.Forum;
using AtSync.Core.Settings;
using AtSync.Core.Sync;
using AtSync.Firehose;
using AtSync.Firehose.Ingest.Jetstream;
using AtSync.Firehose.Verify;
using AtSync.Firehose.Verify.Jetstream;
using AtSync.Testing;
using AtSync.Testing.Synthetic;
using AtSync.Tests.Infrastructure;
using MySqlConnector;

namespace AtSync.Tests.Firehose.Jetstream;

/// <summary>
/// Jetstream events wait durably, as relay commits do (<c>atproto_repos</c>, <c>atproto_held_commits</c>): an author whose
/// PDS cannot prove its events is parked while the cursor and everyone else move on, a restart forgets nothing, the
/// events apply in order once the PDS answers (or are dropped with a counted reason past the bounds), and a repository
/// that is importing holds its events until the import is done. Real MariaDB, a loopback Jetstream, PLC and PDS that
/// enforce their protocols; the restart test runs the Firehose as a process.
/// </summary>
public sealed class JetstreamParkingTests : IAsyncLifetime
{
    private static readonly string BoardUri = $"at://{ServiceSettings.ForumDid}/net.vza.forum.board/3kboardgeneral";
    private static readonly StrongRef Board = new(BoardUri, "bafyreib2rxk3rybk3aobmv5cjuql3bm2twh4jo5uxgf5vadynilrvz6qcy");
    private static readonly DateTimeOffset T0 = new(2026, 7, 4, 15, 0, 0, TimeSpan.Zero);
    private static readonly string Alice = ForumNetwork.Author(0);
    private static readonly string Bob = ForumNetwork.Author(1);

    private readonly SigningKey _key = SigningKey.Generate(KeyCurve.Secp256k1);
    private ForumRepositories _repos = null!;
    private LoopbackPlc _plc = null!;
    private LoopbackRecordPds _pds = null!;
    private LoopbackJetstream _jetstream = null!;
    private long _seq;

    public async Task InitializeAsync()
    {
        _repos = new ForumRepositories(_key);
        _plc = await LoopbackPlc.StartAsync(_key.PublicKey);
        _pds = await LoopbackRecordPds.StartAsync(_repos);
        _plc.DefaultPds = _pds.BaseUri;
        _jetstream = await LoopbackJetstream.StartAsync(JetstreamDictionary.Dictionary);
    }

    public async Task DisposeAsync()
    {
        await _jetstream.DisposeAsync();
        await _pds.DisposeAsync();
        await _plc.DisposeAsync();
        _key.Dispose();
    }

    /// <summary>A new topic of <paramref name="did"/> (its Jetstream event, <c>time_us</c> 10 ms apart).</summary>
    private ForumRepositories.Written Topic(string did, string title)
    {
        var seq = ++_seq;
        var record = new ForumPostRecord("text of " + title, "2026-07-04T14:59:00.000Z", Board, title, null, null, null);
        return _repos.Commit(seq, did, T0.AddMilliseconds(seq * 10), ($"{ForumLexicon.Post}/3ktopic{seq:D5}", ForumFrameFactory.PostRecord(record)));
    }

    private void Publish(params ForumRepositories.Written[] written) => _jetstream.Publish(written.SelectMany(w => w.JetstreamEvents));

    [Fact]
    public async Task An_author_whose_pds_is_down_is_parked_durably_across_a_restart_and_its_events_apply_in_order_exactly_once_when_it_answers()
    {
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync();
        await FirehoseHarness.PrepareForumAsync(database, BoardUri);
        var settings = ProcessSettings(database);
        _pds.Faults[Alice] = RecordFault.Down;

        var a1 = Topic(Alice, "Alice one");
        var b1 = Topic(Bob, "Bob one");
        var a2 = Topic(Alice, "Alice two");
        var subscriptions = _jetstream.Subscriptions;
        await using (var service = ServiceProcess.Start("AtSync.Firehose", settings))
        {
            await _jetstream.WaitForSubscriptionAsync(subscriptions, TimeSpan.FromMinutes(2));
            Publish(a1, b1, a2);
            await service.WaitUntilAsync(async () => await CursorAsync(database) >= a2.TimeUs, TimeSpan.FromSeconds(60));
            // The cursor moved past Alice's events; Bob's topic is in; Alice's wait, durably, in their order.
            Assert.Equal(["Bob one"], await TitlesAsync(database));
            Assert.Equal(("parked", RejectionReasons.PdsUnavailable), await RepoAsync(database, Alice));
            Assert.Equal([(a1.TimeUs, HeldFormats.Jetstream), (a2.TimeUs, HeldFormats.Jetstream)], await HeldAsync(database, Alice));
            await service.WaitForHealthyAsync(TimeSpan.FromSeconds(30));
            var health = await (await service.GetAsync("/health")).Content.ReadAsStringAsync();
            Assert.Contains($"\"{FirehoseRegistration.JetstreamHealthCheckName}\"", health, StringComparison.Ordinal);
            Assert.DoesNotContain($"\"{FirehoseRegistration.RelayHealthCheckName}\"", health, StringComparison.Ordinal);
            service.Terminate();
            Assert.True(await service.WaitForExitAsync(TimeSpan.FromSeconds(30)), service.Output);
        }

        // Restarted: nothing was forgotten. The rewound cursor replays the window (held again at the same rows, applied
        // again as no-ops); a later event of Alice waits behind her held ones while her PDS is still down.
        var a3 = Topic(Alice, "Alice three");
        var b2 = Topic(Bob, "Bob two");
        subscriptions = _jetstream.Subscriptions;
        await using (var service = ServiceProcess.Start("AtSync.Firehose", settings))
        {
            await _jetstream.WaitForSubscriptionAsync(subscriptions, TimeSpan.FromMinutes(2));
            Publish(a3, b2);
            await service.WaitUntilAsync(async () => await CursorAsync(database) >= b2.TimeUs, TimeSpan.FromSeconds(60));
            Assert.Equal(["Bob one", "Bob two"], await TitlesAsync(database));
            Assert.Equal([a1.TimeUs, a2.TimeUs, a3.TimeUs], (await HeldAsync(database, Alice)).Select(h => h.Seq));
            Assert.Equal("parked", (await RepoAsync(database, Alice))?.Status);

            // Her PDS answers: her events are proven and applied after Bob's, in her order, each once.
            _pds.Faults.Clear();
            await service.WaitUntilAsync(async () => (await TitlesAsync(database)).Count == 5, TimeSpan.FromSeconds(60));
            await service.WaitUntilAsync(async () => (await HeldAsync(database, Alice)).Count == 0, TimeSpan.FromSeconds(30));
            Assert.Equal(["Bob one", "Bob two", "Alice one", "Alice two", "Alice three"], await TitlesAsync(database));
            Assert.Equal(("active", ""), await RepoAsync(database, Alice));
            Assert.Equal(5L, await database.ScalarAsync<long>($"SELECT COUNT(*) FROM {database.Tables.PhpbbPosts}"));
            var metrics = await (await service.GetAsync("/metrics")).Content.ReadAsStringAsync();
            Assert.Contains("atsync_firehose_commits_released_total", metrics, StringComparison.Ordinal);
            service.Terminate();
            Assert.True(await service.WaitForExitAsync(TimeSpan.FromSeconds(30)), service.Output);
        }
        // Each of her events was proven by her PDS before it was applied; while it was down only her oldest was asked
        // for (again at each retry), the later ones waiting behind it.
        var asked = new[] { a1, a2, a3 }.Select(w => _pds.Requests.Count(r => r == $"{Alice}/{ForumLexicon.Post}/{RkeyOf(w)}")).ToList();
        Assert.True(asked[0] >= 3 && asked[1] == 1 && asked[2] == 1, string.Join(", ", asked));
    }

    private static string RkeyOf(ForumRepositories.Written written)
    {
        using var json = System.Text.Json.JsonDocument.Parse(written.JetstreamEvents[0]);
        return json.RootElement.GetProperty("commit").GetProperty("rkey").GetString()!;
    }

    [Fact]
    public async Task A_pds_that_stays_down_is_given_up_after_the_bounds_with_its_reason_and_counted()
    {
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync();
        await FirehoseHarness.PrepareForumAsync(database, BoardUri);
        _pds.Faults[Alice] = RecordFault.Down;
        await using var firehose = await StartInProcessAsync(database, new Dictionary<string, string?>
        {
            ["Firehose:ParkedRetryFirst"] = "00:00:00.500",
            ["Firehose:ParkedRetryMax"] = "00:00:01",
            ["Firehose:ParkedMaxAttempts"] = "3",
        });
        var a1 = Topic(Alice, "Alice one");
        var a2 = Topic(Alice, "Alice two");
        var b1 = Topic(Bob, "Bob one");
        Publish(a1, a2, b1);
        await FirehoseHarness.WaitUntilAsync(async () => (await firehose.RepoAsync(Alice))?.Status == "desynchronized", "Alice was not given up",
            TimeSpan.FromSeconds(60));
        Assert.Equal(("desynchronized", RejectionReasons.GaveUpPdsUnavailable, ""), (await firehose.RepoAsync(Alice))!.Value);
        Assert.Empty(await firehose.HeldAsync(Alice));
        await FirehoseHarness.WaitUntilAsync(() => Task.FromResult(FirehoseHarness.Sum(firehose.CommitsDropped, "reason", RejectionReasons.GaveUpPdsUnavailable) >= 2), "not counted");
        Assert.Equal(2, FirehoseHarness.Sum(firehose.CommitsDropped, "reason", RejectionReasons.GaveUpPdsUnavailable));
        Assert.Equal(2, FirehoseHarness.Sum(firehose.CommitsHeld, "reason", "parked"));
        Assert.Equal(["Bob one"], await TitlesAsync(database));
    }

    [Fact]
    public async Task Events_of_a_repository_being_imported_wait_until_the_import_is_done_then_apply_in_order()
    {
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync();
        await FirehoseHarness.PrepareForumAsync(database, BoardUri);
        // As the import worker leaves it when it claims Alice's repository (its lease in retry_at). The worker itself is
        // off here: the test plays the import's state changes, so the loopback PDS (which serves no getRepo) is not asked.
        var lease = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds();
        await database.ExecuteAsync($"INSERT INTO {database.Tables.Repos} (did, status, retry_at) VALUES ('{Alice}', 'importing', {lease})");
        await using var firehose = await StartInProcessAsync(database, new Dictionary<string, string?> { ["Import:WorkerEnabled"] = "false" });
        var a1 = Topic(Alice, "Alice one");
        var b1 = Topic(Bob, "Bob one");
        var a2 = Topic(Alice, "Alice two");
        Publish(a1, b1, a2);
        await firehose.WaitForCursorAsync(FirehoseStreams.JetstreamService, a2.TimeUs);
        Assert.Equal(["Bob one"], await TitlesAsync(database));
        Assert.Equal([a1.TimeUs, a2.TimeUs], await firehose.HeldAsync(Alice));
        // Counted once the batch has committed (just after its cursor).
        await FirehoseHarness.WaitUntilAsync(() => Task.FromResult(FirehoseHarness.Sum(firehose.CommitsHeld, "reason", "importing") >= 2), "not counted");
        Assert.Equal(2, FirehoseHarness.Sum(firehose.CommitsHeld, "reason", "importing"));
        // Not even asked for while importing: the proofs come when the events are released.
        Assert.DoesNotContain(_pds.Requests, r => r.Contains(Uri.EscapeDataString(Alice), StringComparison.Ordinal));

        // A later event waits behind them, and an import that is done (at a rev before these events) releases them in order.
        await database.ExecuteAsync($"UPDATE {database.Tables.Repos} SET status = 'resync_requested' WHERE did = '{Alice}'");
        var a3 = Topic(Alice, "Alice three");
        Publish(a3);
        await firehose.WaitForCursorAsync(FirehoseStreams.JetstreamService, a3.TimeUs);
        Assert.Equal([a1.TimeUs, a2.TimeUs, a3.TimeUs], await firehose.HeldAsync(Alice));
        await database.ExecuteAsync($"UPDATE {database.Tables.Repos} SET status = 'active', reason = '{RepoStatusSql.ImportedReason}', rev = '2222222222222' WHERE did = '{Alice}'");
        await FirehoseHarness.WaitUntilAsync(async () => (await TitlesAsync(database)).Count == 4, "Alice's events were not released", TimeSpan.FromSeconds(60));
        Assert.Equal(["Bob one", "Alice one", "Alice two", "Alice three"], await TitlesAsync(database));
        Assert.Empty(await firehose.HeldAsync(Alice));

        // Events at or below the rev an import stored are already reflected by it: not applied again.
        await database.ExecuteAsync($"UPDATE {database.Tables.Repos} SET rev = 'zzzzzzzzzzzzz' WHERE did = '{Alice}'");
        var a4 = Topic(Alice, "Alice four, already imported");
        Publish(a4);
        await firehose.WaitForCursorAsync(FirehoseStreams.JetstreamService, a4.TimeUs);
        await FirehoseHarness.WaitUntilAsync(() => Task.FromResult(FirehoseHarness.Sum(firehose.Skipped, "reason", "already_reflected") >= 1), "not counted");
        Assert.Equal(4, (await TitlesAsync(database)).Count);
        Assert.Equal(1, FirehoseHarness.Sum(firehose.Skipped, "reason", "already_reflected"));
    }

    private Task<FirehoseHarness> StartInProcessAsync(TestDatabase database, Dictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>
        {
            [FirehoseOptions.SourceSetting] = "jetstream",
            [JetstreamOptions.UrlSetting] = _jetstream.Url.ToString(),
            ["Jetstream:Compress"] = "false",
            ["Jetstream:CursorRewind"] = "00:00:01",
            ["Jetstream:AllowedPdsHosts:0"] = "127.0.0.1",
            ["Firehose:IdleTimeout"] = "00:00:30",
            ["Firehose:ParkedRetryFirst"] = "00:00:01",
            ["Firehose:ParkedRetryMax"] = "00:00:02",
        };
        foreach (var (key, value) in extra ?? []) settings[key] = value;
        return StartAndSubscribeAsync(database, settings);
    }

    private async Task<FirehoseHarness> StartAndSubscribeAsync(TestDatabase database, Dictionary<string, string?> settings)
    {
        var subscriptions = _jetstream.Subscriptions;
        var firehose = await FirehoseHarness.StartAsync(database, new Uri("ws://127.0.0.1:9"), plcUrl: _plc.BaseUri, extra: settings);
        await _jetstream.WaitForSubscriptionAsync(subscriptions);
        return firehose;
    }

    private Dictionary<string, string?> ProcessSettings(TestDatabase database)
    {
        var settings = ServiceSettings.For(database, ServiceSettings.NewTokenKeysJson());
        settings[SettingNames.ConnectionString] = new MySqlConnectionStringBuilder(database.ConnectionString) { AllowUserVariables = false }.ConnectionString;
        settings[SettingNames.PlcDirectoryUrl] = _plc.BaseUri.ToString();
        settings[SettingNames.IdentityAllowedHosts] = "127.0.0.1";
        settings[FirehoseOptions.SourceSetting] = "jetstream";
        settings[JetstreamOptions.UrlSetting] = _jetstream.Url.ToString();
        settings["Jetstream__Compress"] = "false";
        settings["Jetstream__CursorRewind"] = "00:00:01";
        settings["Jetstream__AllowedPdsHosts__0"] = "127.0.0.1";
        settings["Firehose__LabelsEnabled"] = "false";
        settings["Firehose__IdleTimeout"] = "00:00:30";
        settings["Firehose__BatchMaxDelay"] = "00:00:00.250";
        settings["Firehose__ParkedRetryFirst"] = "00:00:01";
        settings["Firehose__ParkedRetryMax"] = "00:00:02";
        settings["Firehose__ReleasePollInterval"] = "00:00:00.200";
        settings[PostingOptions.ModerationSetting] = "none";
        settings[SettingNames.LogLevel] = "Information";
        return settings;
    }

    private static async Task<long> CursorAsync(TestDatabase database)
    {
        await using var connection = await database.OpenAsync();
        await using var command = new MySqlCommand($"SELECT cursor_value FROM {database.Tables.Cursors} WHERE service = '{FirehoseStreams.JetstreamService}'", connection);
        var value = await command.ExecuteScalarAsync();
        return value is null or DBNull ? 0 : Convert.ToInt64(value, CultureInfo.InvariantCulture);
    }

    private static async Task<(string Status, string Reason)?> RepoAsync(TestDatabase database, string did)
    {
        await using var connection = await database.OpenAsync();
        await using var command = new MySqlCommand($"SELECT status, reason FROM {database.Tables.Repos} WHERE did = @did", connection);
        command.Parameters.AddWithValue("@did", did);
        await using var reader = await command.ExecuteReaderAsync();
        return await reader.ReadAsync() ? (reader.GetString(0), reader.GetString(1)) : null;
    }

    private static async Task<List<(long Seq, string Format)>> HeldAsync(TestDatabase database, string did)
    {
        var held = new List<(long, string)>();
        await using var connection = await database.OpenAsync();
        await using var command = new MySqlCommand($"SELECT seq, format FROM {database.Tables.HeldCommits} WHERE did = @did ORDER BY seq", connection);
        command.Parameters.AddWithValue("@did", did);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) held.Add((Convert.ToInt64(reader.GetValue(0), CultureInfo.InvariantCulture), reader.GetString(1)));
        return held;
    }

    private static async Task<List<string>> TitlesAsync(TestDatabase database)
    {
        var titles = new List<string>();
        await using var connection = await database.OpenAsync();
        await using var command = new MySqlCommand($"SELECT post_subject FROM {database.Tables.PhpbbPosts} ORDER BY post_id", connection);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) titles.Add(reader.GetString(0));
        return titles;
    }

}
