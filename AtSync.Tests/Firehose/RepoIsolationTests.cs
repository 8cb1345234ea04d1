using System.Diagnostics;
using AtSync.Core.Forum;
using AtSync.Core.Settings;
using AtSync.Firehose;
using AtSync.Firehose.Repos;
using AtSync.Testing;
using AtSync.Testing.Synthetic;
using AtSync.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using MySqlConnector;

namespace AtSync.Tests.Firehose;

/// <summary>
/// Per-author isolation (issue #12 item 1), with the Firehose as a real process, real MariaDB, a loopback relay and
/// PLC directory, and did:web hosts on real TLS: an author whose signing key cannot be had (host hangs, answers 500,
/// breaks TLS, directory down) is parked with its commits held in order, while everyone else's posts are committed
/// and the cursor moves; when the host recovers the held commits are applied; past the bounds they are dropped with
/// their reason and counted. Held commits are bounded: per repository by count, and each release by bytes.
/// </summary>
public sealed class RepoIsolationTests
{
    private const string Alice = "did:plc:aliceaaaaaaaaaaaaaaaaaaa";
    private const string Bob = "did:plc:bobbbbbbbbbbbbbbbbbbbbbb";
    private static readonly string BoardUri = $"at://{ServiceSettings.ForumDid}/net.vza.forum.board/3kboardgeneral";
    private static readonly StrongRef Board = new(BoardUri, "bafyreib2rxk3rybk3aobmv5cjuql3bm2twh4jo5uxgf5vadynilrvz6qcy");
    private static readonly DateTimeOffset T0 = new(2026, 7, 4, 15, 0, 0, TimeSpan.Zero);

    private static ForumPostRecord Topic(string subject) => new("text of " + subject, "2026-07-04T14:59:00.000Z", Board, subject, null, null, null);

    private static ForumPostRecord Reply(StrongRef root, string text) => new(text, "2026-07-04T15:00:00.000Z", Board, null, root, root, null);

    [Fact]
    public async Task Did_web_hosts_that_hang_fail_or_break_TLS_park_only_their_authors_and_their_posts_arrive_when_they_recover()
    {
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync();
        await FirehoseHarness.PrepareForumAsync(database, BoardUri);
        using var frames = ForumFrameFactory.Create();
        await using var plc = await LoopbackPlc.StartAsync(frames.SigningKey.PublicKey);
        await using var hang = await LoopbackDidWebHost.StartAsync(frames.SigningKey.PublicKey, ServiceProcess.FreeLoopbackPort(), DidWebBehavior.Hang);
        await using var fail = await LoopbackDidWebHost.StartAsync(frames.SigningKey.PublicKey, ServiceProcess.FreeLoopbackPort(), DidWebBehavior.Fail);
        await using var tls = await LoopbackDidWebHost.StartAsync(frames.SigningKey.PublicKey, ServiceProcess.FreeLoopbackPort(), DidWebBehavior.BrokenTls);
        var trust = Path.Combine(Path.GetTempPath(), $"atsync-didweb-{Guid.NewGuid():N}.pem");
        await File.WriteAllTextAsync(trust, hang.TrustedCertificatePem + fail.TrustedCertificatePem + tls.TrustedCertificatePem);

        var topic = frames.Post(1, Alice, "3ktopic00001", Topic("Open topic"), T0);
        var root = new StrongRef(topic.Uri, topic.RecordCid!);
        await using var relay = await LoopbackRelay.StartAsync(FirehoseStreams.SubscribeReposPath);
        relay.Publish([
            (1, topic.Frame),
            (2, frames.Post(2, hang.Did, "3kreply00001", Reply(root, "from the hanging host"), T0.AddSeconds(1)).Frame),
            (3, frames.Post(3, fail.Did, "3kreply00002", Reply(root, "from the failing host"), T0.AddSeconds(2)).Frame),
            (4, frames.Post(4, tls.Did, "3kreply00003", Reply(root, "from the broken TLS host"), T0.AddSeconds(3)).Frame),
            (5, frames.Post(5, hang.Did, "3kreply00004", Reply(root, "hanging host, second"), T0.AddSeconds(4)).Frame),
        ]);
        try
        {
            var settings = Settings(database, relay.Url, plc.BaseUri);
            settings["SSL_CERT_FILE"] = trust;
            // The identity client resolves names itself (no hosts file): a loopback name server answers for localhost.
            await using var dns = await AtSync.Testing.LoopbackDns.StartAsync();
            dns.Addresses["localhost"] = [System.Net.IPAddress.Loopback];
            settings[SettingNames.IdentityDnsServer] = dns.Setting;
            await using var service = ServiceProcess.Start("AtSync.Firehose", settings);
            await WaitForCursorAsync(database, service, 5, TimeSpan.FromMinutes(2));
            // Alice's topic is in (at once, or from the releaser when a cold process on a loaded machine missed the key
            // deadline for its very first directory fetch).
            await service.WaitUntilAsync(async () => (await PostTextsAsync(database)).Contains("text of Open topic"), TimeSpan.FromSeconds(30));

            // Another author's post, while all three hosts are still broken: committed within a batch interval of its arrival.
            var sent = Stopwatch.StartNew();
            relay.Publish(6, frames.Post(6, Bob, "3kreply00005", Reply(root, "Bob is not held"), T0.AddSeconds(5)).Frame);
            await WaitForCursorAsync(database, service, 6, TimeSpan.FromSeconds(30));
            await service.WaitUntilAsync(async () => (await PostTextsAsync(database)).Count >= 2, TimeSpan.FromSeconds(30));
            var bobCommitted = sent.Elapsed;
            Assert.Equal(["text of Open topic", "Bob is not held"], await PostTextsAsync(database));
            Assert.True(bobCommitted < TimeSpan.FromSeconds(10), $"Bob's post took {bobCommitted.TotalMilliseconds:0} ms");
            foreach (var host in new[] { hang, fail, tls })
            {
                Assert.Equal("parked", await StatusAsync(database, host.Did));
            }
            Assert.Equal([2L, 5L], await HeldAsync(database, hang.Did));
            Assert.Equal(0, tls.Requests); // the handshake never got as far as HTTP
            Assert.True(hang.Requests > 0 && fail.Requests > 0);
            var metrics = await (await service.GetAsync("/metrics")).Content.ReadAsStringAsync();
            Assert.Contains("atsync_firehose_commits_held_total", metrics, StringComparison.Ordinal);

            // /health says the stream is fine: the cursor moves, nothing waits.
            await service.WaitForHealthyAsync(TimeSpan.FromSeconds(30));

            foreach (var host in new[] { hang, fail, tls }) host.Behavior = DidWebBehavior.Serve;

            await service.WaitUntilAsync(async () => (await PostTextsAsync(database)).Count == 6, TimeSpan.FromSeconds(90));
            var texts = await PostTextsAsync(database);
            Assert.Equal(["text of Open topic", "Bob is not held"], texts.Take(2));
            Assert.Equal(["from the broken TLS host", "from the failing host", "from the hanging host", "hanging host, second"], texts.Skip(2).Order(StringComparer.Ordinal));
            // The hanging host's two posts in their stream order.
            Assert.True(texts.IndexOf("from the hanging host") < texts.IndexOf("hanging host, second"));
            foreach (var host in new[] { hang, fail, tls })
            {
                Assert.Equal("active", await StatusAsync(database, host.Did));
                Assert.Empty(await HeldAsync(database, host.Did));
            }
            service.Terminate();
            Assert.True(await service.WaitForExitAsync(TimeSpan.FromSeconds(30)), service.Output);
        }
        finally
        {
            File.Delete(trust);
        }
    }

    [Fact]
    public async Task A_key_that_stays_unavailable_is_given_up_after_the_bounds_with_its_reason_and_counted()
    {
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync();
        await FirehoseHarness.PrepareForumAsync(database, BoardUri);
        using var frames = ForumFrameFactory.Create();
        await using var plc = await LoopbackPlc.StartAsync(frames.SigningKey.PublicKey);
        plc.Unavailable[Bob] = true;
        await using var relay = await LoopbackRelay.StartAsync(FirehoseStreams.SubscribeReposPath);
        relay.Publish([
            (1, frames.Post(1, Bob, "3ktopic00001", Topic("Never verifiable"), T0).Frame),
            (2, frames.Post(2, Bob, "3ktopic00002", Topic("Behind it"), T0.AddSeconds(1)).Frame),
            (3, frames.Post(3, Alice, "3ktopic00003", Topic("Alice"), T0.AddSeconds(2)).Frame),
        ]);
        await using var firehose = await FirehoseHarness.StartAsync(database, relay.Url, plcUrl: plc.BaseUri, extra: new Dictionary<string, string?>
        {
            ["Firehose:ParkedRetryFirst"] = "00:00:00.500",
            ["Firehose:ParkedRetryMax"] = "00:00:01",
            ["Firehose:ParkedMaxAttempts"] = "3",
        });
        await firehose.WaitForCursorAsync(FirehoseStreams.RepoService, 3);

        await FirehoseHarness.WaitUntilAsync(async () => (await firehose.RepoAsync(Bob))?.Status == "desynchronized", "the held commits were never given up");
        Assert.Equal("gave_up_key_unavailable", (await firehose.RepoAsync(Bob))?.Reason);
        Assert.Empty(await firehose.HeldAsync(Bob));
        Assert.Equal(2, FirehoseHarness.Sum(firehose.CommitsDropped, "reason", "gave_up_key_unavailable"));
        Assert.Equal(["Alice"], await TitlesAsync(database));
        // Tried at the first sighting and by the releaser until the bound, not more (the resolver remembers an outage
        // for a second, so a retry within it is answered without asking the directory again).
        var asked = plc.Requested.Count(d => d == Bob);
        Assert.InRange(asked, 2, 4);
    }

    [Fact]
    public async Task Commits_past_a_repositorys_bound_are_dropped_counted_and_the_repository_desynchronized_while_others_go_on()
    {
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync();
        await FirehoseHarness.PrepareForumAsync(database, BoardUri);
        using var frames = ForumFrameFactory.Create();
        await using var plc = await LoopbackPlc.StartAsync(frames.SigningKey.PublicKey);
        plc.Unavailable[Bob] = true;
        await using var relay = await LoopbackRelay.StartAsync(FirehoseStreams.SubscribeReposPath);
        relay.Publish([
            (1, frames.Post(1, Bob, "3ktopic00001", Topic("Bob 1"), T0).Frame),
            (2, frames.Post(2, Bob, "3ktopic00002", Topic("Bob 2"), T0.AddSeconds(1)).Frame),
            (3, frames.Post(3, Bob, "3ktopic00003", Topic("Bob 3"), T0.AddSeconds(2)).Frame),
            (4, frames.Post(4, Alice, "3ktopic00004", Topic("Alice"), T0.AddSeconds(3)).Frame),
            (5, frames.Post(5, Bob, "3ktopic00005", Topic("Bob 4"), T0.AddSeconds(4)).Frame),
            (6, frames.Post(6, Bob, "3ktopic00006", Topic("Bob 5"), T0.AddSeconds(5)).Frame),
        ]);
        await using var firehose = await FirehoseHarness.StartAsync(database, relay.Url, plcUrl: plc.BaseUri, extra: new Dictionary<string, string?>
        {
            ["Firehose:MaxHeldPerRepo"] = "2",
            ["Firehose:ParkedRetryFirst"] = "00:10:00",
            ["Firehose:ParkedRetryMax"] = "00:10:00",
        });
        await firehose.WaitForCursorAsync(FirehoseStreams.RepoService, 6);

        Assert.Equal([1L, 2L], await firehose.HeldAsync(Bob));
        Assert.Equal(3, FirehoseHarness.Sum(firehose.CommitsDropped, "reason", "held_over_limit"));
        Assert.Equal(("desynchronized", "held_over_limit"), (await firehose.RepoAsync(Bob)) is { } bob ? (bob.Status, bob.Reason) : default);
        // Nobody else waits for Bob.
        Assert.Equal(["Alice"], await TitlesAsync(database));
    }

    [Fact]
    public async Task A_release_reads_at_most_its_byte_bound_but_always_the_oldest_frame()
    {
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync();
        await FirehoseHarness.PrepareForumAsync(database, BoardUri);
        await using var relay = await LoopbackRelay.StartAsync(FirehoseStreams.SubscribeReposPath);
        await using var firehose = await FirehoseHarness.StartAsync(database, relay.Url);
        await using (var connection = await database.OpenAsync())
        {
            // Desynchronized: the releaser leaves its frames where they are (only an import releases them).
            await using (var repo = new MySqlCommand($"INSERT INTO {database.Tables.Repos} (did, status, reason, updated_at) VALUES (@did, 'desynchronized', 'test', 0)", connection))
            {
                repo.Parameters.AddWithValue("@did", Bob);
                await repo.ExecuteNonQueryAsync();
            }
            foreach (var (seq, size) in new[] { (10L, 40_000), (11L, 40_000), (12L, 40_000), (13L, 10) })
            {
                await using var insert = new MySqlCommand($"""
                    INSERT INTO {database.Tables.HeldCommits} (did, seq, stream, format, frame, held_at) VALUES (@did, @seq, 'firehose', 'relay', @frame, 0)
                    """, connection);
                insert.Parameters.AddWithValue("@did", Bob);
                insert.Parameters.AddWithValue("@seq", seq);
                insert.Parameters.AddWithValue("@frame", new byte[size]);
                await insert.ExecuteNonQueryAsync();
            }
        }
        var store = firehose.Services.GetRequiredService<RepoStateStore>();

        Assert.Equal([10L, 11L], (await store.HeldAsync(Bob, 500, 80_000, CancellationToken.None)).Select(h => h.Seq));
        Assert.Equal([10L, 11L, 12L], (await store.HeldAsync(Bob, 500, 80_001, CancellationToken.None)).Select(h => h.Seq));
        Assert.Equal([10L], (await store.HeldAsync(Bob, 500, 1, CancellationToken.None)).Select(h => h.Seq));
        Assert.Equal([10L, 11L, 12L, 13L], (await store.HeldAsync(Bob, 500, 1_000_000, CancellationToken.None)).Select(h => h.Seq));
        Assert.Equal([10L, 11L], (await store.HeldAsync(Bob, 2, 1_000_000, CancellationToken.None)).Select(h => h.Seq));
    }

    private static Dictionary<string, string?> Settings(TestDatabase database, Uri relay, Uri plc)
    {
        var settings = ServiceSettings.For(database, ServiceSettings.NewTokenKeysJson());
        settings[SettingNames.RelayUrl] = relay.ToString();
        settings[SettingNames.PlcDirectoryUrl] = plc.ToString();
        // The did:web hosts are https://localhost:port: allowed by name, as an operator would allow a private host.
        settings[SettingNames.IdentityAllowedHosts] = "127.0.0.1, localhost";
        settings[SettingNames.ConnectionString] = new MySqlConnectionStringBuilder(database.ConnectionString) { AllowUserVariables = false }.ConnectionString;
        settings["Firehose__LabelsEnabled"] = "false";
        settings["Firehose__BatchMaxDelay"] = "00:00:00.250";
        settings["Firehose__KeyDeadline"] = "00:00:00.250";
        settings["Firehose__ParkedRetryFirst"] = "00:00:01";
        settings["Firehose__ParkedRetryMax"] = "00:00:02";
        settings["Firehose__ReleasePollInterval"] = "00:00:00.200";
        settings[SettingNames.LogLevel] = "Information";
        return settings;
    }

    private static async Task<string?> StatusAsync(TestDatabase database, string did)
    {
        await using var connection = await database.OpenAsync();
        await using var command = new MySqlCommand($"SELECT status FROM {database.Tables.Repos} WHERE did = @did", connection);
        command.Parameters.AddWithValue("@did", did);
        return await command.ExecuteScalarAsync() as string;
    }

    private static async Task<long> CursorAsync(TestDatabase database)
    {
        await using var connection = await database.OpenAsync();
        await using var command = new MySqlCommand($"SELECT cursor_value FROM {database.Tables.Cursors} WHERE service = 'firehose'", connection);
        var value = await command.ExecuteScalarAsync();
        return value is null or DBNull ? 0 : Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task<List<long>> HeldAsync(TestDatabase database, string did)
    {
        var seqs = new List<long>();
        await using var connection = await database.OpenAsync();
        await using var command = new MySqlCommand($"SELECT seq FROM {database.Tables.HeldCommits} WHERE did = @did ORDER BY seq", connection);
        command.Parameters.AddWithValue("@did", did);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) seqs.Add(Convert.ToInt64(reader.GetValue(0), System.Globalization.CultureInfo.InvariantCulture));
        return seqs;
    }

    private static async Task<List<string>> PostTextsAsync(TestDatabase database)
    {
        var texts = new List<string>();
        await using var connection = await database.OpenAsync();
        await using var command = new MySqlCommand($"SELECT post_text FROM {database.Tables.PhpbbPosts} ORDER BY post_id", connection);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) texts.Add(StripXml(reader.GetString(0)));
        return texts;
    }

    private static string StripXml(string stored) => System.Text.RegularExpressions.Regex.Replace(stored, "<[^>]+>", "");

    private static async Task<List<string>> TitlesAsync(TestDatabase database)
    {
        var titles = new List<string>();
        await using var connection = await database.OpenAsync();
        await using var command = new MySqlCommand($"SELECT topic_title FROM {database.Tables.PhpbbTopics} ORDER BY topic_id", connection);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) titles.Add(reader.GetString(0));
        return titles;
    }

    private static async Task WaitForCursorAsync(TestDatabase database, ServiceProcess service, long seq, TimeSpan timeout) =>
        await service.WaitUntilAsync(async () => await CursorAsync(database) >= seq, timeout);

}
