using AtSync.Core.Settings;
using AtSync.Firehose;
using AtSync.Firehose.Ingest;
using AtSync.Testing;
using AtSync.Testing.Synthetic;
using AtSync.Tests.Firehose;
using AtSync.Tests.Infrastructure;
using AtSync.Tests.QueueWorker;

namespace AtSync.Tests.Operations;

/// <summary><c>atsync replay</c> through the Firehose pipeline, and <c>atsync doctor</c> against loopback peers.</summary>
public sealed class CliReplayDoctorTests
{
    private static readonly string BoardUri = $"at://{ServiceSettings.ForumDid}/net.vza.forum.board/3kboardgeneral";

    [Fact]
    public async Task Replay_applies_a_capture_up_to_its_last_event_and_a_second_replay_changes_nothing()
    {
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync();
        await FirehoseHarness.PrepareForumAsync(database, BoardUri);
        using var factory = ForumFrameFactory.Create();
        var frames = SyntheticStream.Generate(factory, new SyntheticStreamOptions { Frames = 600, ForumShare = 0.3, BoardUri = BoardUri, Authors = 15, Seed = 3 }).ToList();
        await using var plc = await LoopbackPlc.StartAsync(factory.SigningKey.PublicKey);
        var capture = Path.Combine(Path.GetTempPath(), $"atsync-replay-{Guid.NewGuid():N}.bin.zst");
        await CaptureFileSource.WriteAsync(capture, frames.Select(f => (ReadOnlyMemory<byte>)f.Frame), compress: true);
        try
        {
            var settings = ServiceSettings.For(database, ServiceSettings.NewTokenKeysJson());
            settings[SettingNames.PlcDirectoryUrl] = plc.BaseUri.ToString();

            var first = await CliProcess.RunAsync(settings, "replay", capture, "--json");
            Assert.True(first.ExitCode == 0, first.ToString());
            var json = first.Json;
            Assert.Equal(600, json.GetProperty("frames").GetInt64());
            Assert.Equal(frames[^1].Seq, json.GetProperty("last_seq").GetInt64());
            Assert.Equal(frames[^1].Seq, json.GetProperty("cursor_after").GetInt64());
            Assert.Equal(0, json.GetProperty("cursor_before").GetInt64());
            var posts = await database.ScalarAsync<long>($"SELECT COUNT(*) FROM {database.Tables.PhpbbPosts}");
            Assert.Equal(posts, json.GetProperty("posts_added").GetInt64());
            Assert.True(posts > 50, $"only {posts} posts");

            var again = await CliProcess.RunAsync(settings, "replay", capture);
            Assert.True(again.ExitCode == 0, again.ToString());
            Assert.Contains($"cursor {frames[^1].Seq} -> {frames[^1].Seq}; 0 phpBB posts added", again.Stdout, StringComparison.Ordinal);
            Assert.Equal(posts, await database.ScalarAsync<long>($"SELECT COUNT(*) FROM {database.Tables.PhpbbPosts}"));

            Assert.Equal(2, (await CliProcess.RunAsync(settings, "replay", capture + ".missing")).ExitCode);
        }
        finally
        {
            File.Delete(capture);
        }
    }

    [Fact]
    public async Task Doctor_passes_with_every_peer_up_and_names_each_failure_when_they_are_not()
    {
        await using var h = await QueueHarness.CreateAsync();
        await using var relay = await LoopbackRelay.StartAsync(FirehoseStreams.SubscribeReposPath);
        using var factory = ForumFrameFactory.Create();
        await using var plc = await LoopbackPlc.StartAsync(factory.SigningKey.PublicKey);
        var settings = ServiceSettings.For(h.Database, h.KeysJson);
        settings[SettingNames.ForumPdsUrl] = h.Pds.BaseUri.ToString();
        settings[SettingNames.LabelerUrl] = h.Pds.BaseUri.ToString();
        settings[SettingNames.RelayUrl] = relay.Url.ToString();
        settings[SettingNames.PlcDirectoryUrl] = plc.BaseUri.ToString();

        var good = await CliProcess.RunAsync(settings, "doctor", "--json");
        Assert.True(good.ExitCode == 0, good.ToString());
        Assert.True(good.Json.GetProperty("ok").GetBoolean());
        var checks = good.Json.GetProperty("checks").EnumerateArray().ToDictionary(c => c.GetProperty("name").GetString()!, c => c.GetProperty("verdict").GetString());
        foreach (var name in new[] { "settings: database", "settings: forum", "settings: network", "settings: token keys", "database", "schema", "phpBB tables", "peer: relay", "peer: PLC directory" })
        {
            Assert.Equal("ok", checks[name]);
        }
        Assert.NotEqual("fail", checks["peer: forum PDS"]);
        Assert.Equal(1, relay.Connections);

        // A bad DID, a relay nobody listens on, a schema version missing: each named, exit 1, no secret printed.
        var bad = new Dictionary<string, string?>(settings)
        {
            [SettingNames.RelayUrl] = $"ws://127.0.0.1:{ServiceProcess.FreeLoopbackPort()}/xrpc/com.atproto.sync.subscribeRepos",
            [SettingNames.TokenEncryptionKeys] = "SECRET-not-json",
        };
        await h.ExecuteAsync($"DELETE FROM {h.Tables.SchemaMigrations} WHERE version = (SELECT MAX(version) FROM (SELECT version FROM {h.Tables.SchemaMigrations}) v)");
        var text = await CliProcess.RunAsync(bad, "doctor");
        Assert.Equal(1, text.ExitCode);
        Assert.Contains("FAIL  settings: token keys: TOKEN_ENCRYPTION_KEYS is not JSON", text.Stdout, StringComparison.Ordinal);
        Assert.Contains("FAIL  peer: relay:", text.Stdout, StringComparison.Ordinal);
        Assert.Matches(@"FAIL  schema: migrations not applied: \d+", text.Stdout);
        Assert.Contains("ok    database: connected", text.Stdout, StringComparison.Ordinal);
        Assert.Contains("doctor: problems found", text.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("SECRET", text.Stdout + text.Stderr, StringComparison.Ordinal);
    }
}
