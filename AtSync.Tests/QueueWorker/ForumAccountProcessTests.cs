using System.Net;
using System.Text.Json;
using AtSync.Core.Forum;
using AtSync.Core.Settings;
using AtSync.Firehose;
using AtSync.Testing;
using AtSync.Testing.Synthetic;
using AtSync.Tests.Firehose;
using AtSync.Tests.Infrastructure;
using AtSync.Tests.QueueWorker.Boards;
using MySqlConnector;

namespace AtSync.Tests.QueueWorker;

/// <summary>
/// The forum account end to end: a real QueueWorker process signs in to the loopback PDS with its app password
/// (createSession), keeps the session refreshed (refreshSession), and keeps phpBB's forums published as board records
/// and mapped in <c>atproto_forums</c>; the Firehose then applies a network post to the new board.
/// </summary>
public sealed class ForumAccountProcessTests
{
    private const string Board = "net.vza.forum.board";
    private const string Author = "did:plc:networkauthoraaaaaaaaaaa";
    private static readonly TimeSpan AccessLifetime = TimeSpan.FromSeconds(8);

    [Fact]
    public async Task Boards_created_renamed_and_deleted_in_phpbb_follow_on_the_PDS_and_a_network_post_to_the_new_board_is_applied()
    {
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync();
        var t = database.Tables;
        // phpBB before AtSync: a category and a forum in it.
        await database.ExecuteAsync($"""
            INSERT INTO {t.PhpbbForums} (forum_id, parent_id, left_id, right_id, forum_name, forum_parents, forum_desc, forum_rules, forum_type) VALUES
              (1, 0, 1, 4, 'Your first category', '', '', '', 0), (2, 1, 2, 3, 'General &amp; chat', '', '<t>Talk here</t>', '', 1)
            """);
        await using var pds = await LoopbackPds.StartAsync();
        pds.AccessLifetime = AccessLifetime;
        pds.AddAccount(ServiceSettings.ForumDid, BoardHarness.ForumHandle, ServiceSettings.ForumAppPassword);

        var settings = ServiceSettings.For(database, ServiceSettings.NewTokenKeysJson());
        settings[SettingNames.ForumPdsUrl] = pds.BaseUri.ToString();
        settings["QueueWorker__PollInterval"] = "00:00:00.100";
        settings["QueueWorker__RefreshAhead"] = "00:00:00";
        settings["QueueWorker__BoardReconcileInterval"] = "00:00:01";
        await using var worker = ServiceProcess.Start("AtSync.QueueWorker", settings);
        await worker.WaitForHealthyAsync(TimeSpan.FromSeconds(90));
        var signedInAt = DateTimeOffset.UtcNow;

        // First start: the existing category and forum are published, the forum's record refers to the category's.
        var general = await WaitForMappingAsync(database, 2, worker);
        Assert.Equal(ServiceSettings.ForumDid, AtSync.AtProto.Syntax.AtUri.Parse(general.AtUri).Authority);
        Assert.Equal("General & chat", RecordField(pds, general.AtUri, "name"));
        Assert.Equal("Talk here", RecordField(pds, general.AtUri, "description"));
        Assert.Equal("forum", RecordField(pds, general.AtUri, "boardType"));
        var category = await WaitForMappingAsync(database, 1, worker);
        Assert.Equal("category", RecordField(pds, category.AtUri, "boardType"));
        Assert.Equal((category.AtUri, category.AtCid), ParentOf(pds, general.AtUri));
        Assert.Null(ParentOf(pds, category.AtUri));

        // A new board in phpBB appears as a board record and in atproto_forums.
        await database.ExecuteAsync($"""
            INSERT INTO {t.PhpbbForums} (forum_id, parent_id, left_id, right_id, forum_name, forum_parents, forum_desc, forum_rules, forum_type)
            VALUES (3, 1, 4, 5, 'Announcements', '', '', '', 1)
            """);
        var announcements = await WaitForMappingAsync(database, 3, worker);
        Assert.Equal(pds.CidOf(announcements.AtUri), announcements.AtCid);
        Assert.Equal("Announcements", RecordField(pds, announcements.AtUri, "name"));
        Assert.Equal("announcements", announcements.Slug);
        Assert.Equal((category.AtUri, category.AtCid), ParentOf(pds, announcements.AtUri));

        // A network post to the new board is applied by the Firehose.
        using var frames = ForumFrameFactory.Create();
        await using var relay = await LoopbackRelay.StartAsync(FirehoseStreams.SubscribeReposPath);
        var topic = frames.Post(500, Author, "3ktopicnetwork", new ForumPostRecord(
            "Hello from the network", "2026-12-01T12:00:00.000Z", new StrongRef(announcements.AtUri, announcements.AtCid), "Network topic", null, null, null),
            DateTimeOffset.UtcNow);
        // One to the category is refused: phpBB holds posts only in forums.
        var toCategory = frames.Post(501, Author, "3ktopiccategory", new ForumPostRecord(
            "Into the category", "2026-12-01T12:00:01.000Z", new StrongRef(category.AtUri, category.AtCid), "Category topic", null, null, null),
            DateTimeOffset.UtcNow);
        relay.Publish([(500, topic.Frame), (501, toCategory.Frame)]);
        await using (var firehose = await FirehoseHarness.StartAsync(database, relay.Url, signingKey: frames.SigningKey.PublicKey))
        {
            await firehose.WaitForCursorAsync(FirehoseStreams.RepoService, 501);
            Assert.Equal(1L, FirehoseHarness.Sum(firehose.Skipped));
            Assert.Equal(1L, FirehoseHarness.Sum(firehose.Skipped, "reason", "not_a_postable_forum"));
        }
        Assert.Equal(0L, await database.ScalarAsync<long>($"SELECT COUNT(*) FROM {t.PhpbbTopics} WHERE topic_title = 'Category topic'"));
        Assert.Equal(3L, await database.ScalarAsync<long>($"SELECT forum_id FROM {t.PhpbbTopics} WHERE topic_title = 'Network topic'"));
        Assert.Equal(1L, await database.ScalarAsync<long>($"SELECT forum_topics_approved FROM {t.PhpbbForums} WHERE forum_id = 3"));

        // A rename updates the same record.
        await database.ExecuteAsync($"UPDATE {t.PhpbbForums} SET forum_name = 'News' WHERE forum_id = 3");
        await WaitAsync(() => Task.FromResult(RecordField(pds, announcements.AtUri, "name") == "News"), worker, "the rename did not reach the PDS");
        await WaitAsync(async () => (await MappingAsync(database, 3))?.Slug == "news", worker, "the mapping did not follow the rename");
        Assert.Equal(announcements.AtUri, (await MappingAsync(database, 3))!.AtUri);

        // The forum session's access token expires: the worker refreshes it (not a new sign-in) and the next write goes out.
        var wait = signedInAt + AccessLifetime + TimeSpan.FromSeconds(2) - DateTimeOffset.UtcNow;
        if (wait > TimeSpan.Zero) await Task.Delay(wait);
        await database.ExecuteAsync($"UPDATE {t.PhpbbForums} SET forum_name = 'News and notes' WHERE forum_id = 3");
        await WaitAsync(() => Task.FromResult(RecordField(pds, announcements.AtUri, "name") == "News and notes"), worker, "the write after expiry did not arrive");
        Assert.Contains(pds.Calls, c => c is { Nsid: "com.atproto.server.refreshSession", Status: 200 } && c.Did == ServiceSettings.ForumDid);
        Assert.Single(pds.Calls, c => c is { Nsid: "com.atproto.server.createSession", Status: 200 });

        // A delete deletes it.
        await database.ExecuteAsync($"DELETE FROM {t.PhpbbForums} WHERE forum_id = 3");
        await WaitAsync(async () => await MappingAsync(database, 3) is null && !pds.Records.ContainsKey(announcements.AtUri), worker, "the delete did not reach the PDS");
        Assert.True(pds.Records.ContainsKey(general.AtUri));
        Assert.Equal(0L, await database.ScalarAsync<long>($"SELECT COUNT(*) FROM {t.Queue}"));

        // No token or password in any log line or health body.
        using var http = new HttpClient();
        var health = await http.GetStringAsync(new Uri(worker.BaseAddress, "/health"));
        var secrets = pds.IssuedTokens.Append(ServiceSettings.ForumAppPassword).ToList();
        Assert.True(secrets.Count >= 4);
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(secret, worker.Output, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, health, StringComparison.Ordinal);
        }
        worker.Terminate();
        Assert.True(await worker.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(0, worker.ExitCode);
    }

    public static TheoryData<string?, string, string> RefusedCredentials => new()
    {
        { null, "wrong-app-password", "FORUM_APP_PASSWORD was refused by the forum's PDS for FORUM_DID (AuthenticationRequired)." },
        { "other.test", "other-account-password", "FORUM_HANDLE and FORUM_APP_PASSWORD sign in to did:plc:otheraccountaaaaaaaaaaaa, not to FORUM_DID." },
    };

    [Theory]
    [MemberData(nameof(RefusedCredentials))]
    public async Task A_refused_forum_credential_stops_the_worker_at_start_with_one_line_naming_the_setting(string? handle, string password, string expected)
    {
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync(withPhpbbSchema: false);
        await using var pds = await LoopbackPds.StartAsync();
        pds.AddAccount(ServiceSettings.ForumDid, BoardHarness.ForumHandle, ServiceSettings.ForumAppPassword);
        pds.AddAccount("did:plc:otheraccountaaaaaaaaaaaa", "other.test", "other-account-password");
        var settings = ServiceSettings.For(database, ServiceSettings.NewTokenKeysJson());
        settings[SettingNames.ForumPdsUrl] = pds.BaseUri.ToString();
        settings[SettingNames.ForumHandle] = handle;
        settings[SettingNames.ForumAppPassword] = password;

        await using var worker = ServiceProcess.Start("AtSync.QueueWorker", settings);
        Assert.True(await worker.WaitForExitAsync(TimeSpan.FromSeconds(60)), worker.Output);
        Assert.Equal(ServiceRunner.InvalidSettingsExitCode, worker.ExitCode);
        var line = Assert.Single(worker.ErrorLines);
        Assert.Equal($"AtSync.QueueWorker cannot start: {expected}", line);
        Assert.Equal(line, Assert.Single(worker.OutputLines));
        Assert.DoesNotContain(password, worker.Output, StringComparison.Ordinal);
        Assert.All(pds.IssuedTokens, token => Assert.DoesNotContain(token, worker.Output, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_forum_PDS_that_cannot_be_reached_at_start_does_not_stop_the_worker_which_signs_in_when_it_can()
    {
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync();
        await database.ExecuteAsync($"INSERT INTO {database.Tables.PhpbbForums} (forum_id, forum_name, forum_parents, forum_desc, forum_rules, forum_type) VALUES (5, 'Later', '', '', '', 1)");
        await using var pds = await LoopbackPds.StartAsync();
        pds.AddAccount(ServiceSettings.ForumDid, BoardHarness.ForumHandle, ServiceSettings.ForumAppPassword);
        // The PDS answers 503 to the start-up sign-in and to the first retries.
        pds.InjectFault(new PdsFault.Error(503, "ServiceUnavailable"), "com.atproto.server.createSession", count: 2);
        var settings = ServiceSettings.For(database, ServiceSettings.NewTokenKeysJson());
        settings[SettingNames.ForumPdsUrl] = pds.BaseUri.ToString();
        settings["QueueWorker__PollInterval"] = "00:00:00.100";
        await using var worker = ServiceProcess.Start("AtSync.QueueWorker", settings);
        await worker.WaitForHealthyAsync(TimeSpan.FromSeconds(90));
        var later = await WaitForMappingAsync(database, 5, worker);
        Assert.True(pds.Records.ContainsKey(later.AtUri));
        Assert.Equal(2, pds.Calls.Count(c => c is { Nsid: "com.atproto.server.createSession", Status: 503 }));
        Assert.Single(pds.Calls, c => c is { Nsid: "com.atproto.server.createSession", Status: 200 });
        Assert.False(worker.HasExited);
    }

    private static string? RecordField(LoopbackPds pds, string uri, string field)
    {
        if (!pds.Records.TryGetValue(uri, out var json)) return null;
        using var record = JsonDocument.Parse(json);
        return record.RootElement.TryGetProperty(field, out var value) ? value.GetString() : null;
    }

    private static (string Uri, string Cid)? ParentOf(LoopbackPds pds, string uri)
    {
        using var record = JsonDocument.Parse(pds.Records[uri]);
        return record.RootElement.TryGetProperty("parent", out var parent)
            ? (parent.GetProperty("uri").GetString()!, parent.GetProperty("cid").GetString()!)
            : null;
    }

    private static async Task<BoardHarness.Mapping?> MappingAsync(TestDatabase database, long forumId)
    {
        await using var connection = await database.OpenAsync();
        await using var select = new MySqlCommand($"SELECT at_uri, at_cid, slug FROM {database.Tables.Forums} WHERE forum_id = {forumId}", connection);
        await using var reader = await select.ExecuteReaderAsync();
        return await reader.ReadAsync() ? new BoardHarness.Mapping(reader.GetString(0), reader.GetString(1), reader.GetString(2)) : null;
    }

    private static async Task<BoardHarness.Mapping> WaitForMappingAsync(TestDatabase database, long forumId, ServiceProcess worker)
    {
        BoardHarness.Mapping? mapping = null;
        await WaitAsync(async () => (mapping = await MappingAsync(database, forumId)) is not null, worker, $"forum {forumId} was not published");
        return mapping!;
    }

    private static async Task WaitAsync(Func<Task<bool>> condition, ServiceProcess worker, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!await condition())
        {
            Assert.False(worker.HasExited, worker.Output);
            Assert.True(DateTime.UtcNow < deadline, $"{what} within 60 s:\n{worker.Output}");
            await Task.Delay(100);
        }
    }
}
