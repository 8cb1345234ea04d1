using System.Text.Json;
using AtSync.Tests.Infrastructure;
using AtSync.Tests.QueueWorker;

namespace AtSync.Tests.Operations;

/// <summary>
/// <c>atsync</c> as a process against a real MariaDB database seeded the way phpBB and the services write it: each
/// command's text and <c>--json</c> output and its exit code.
/// </summary>
public sealed class CliCommandTests
{
    /// <summary>The exit codes README.md documents for scripts (AtSync.Cli/ExitCodes.cs), as literals: they are a contract.</summary>
    internal static class ExitCodes
    {
        public const int Ok = 0, Failed = 1, Usage = 2, Unavailable = 3;
    }

    private static Dictionary<string, string?> Settings(QueueHarness h) => ServiceSettings.For(h.Database, h.KeysJson);

    private static async Task<(QueueHarness H, LinkedUser A, LinkedUser B)> SeededAsync()
    {
        var h = await QueueHarness.CreateAsync();
        var a = await h.LinkUserAsync();
        var b = await h.LinkUserAsync();
        await h.PostTopicAsync(a.UserId, "One", "<t>one</t>");
        await h.PostTopicAsync(b.UserId, "Two", "<t>two</t>");
        await h.PostTopicAsync(b.UserId, "Three", "<t>three</t>");
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        await h.ExecuteAsync($"INSERT INTO {h.Tables.Cursors} (service, cursor_value, updated_at) VALUES ('firehose', 123456, {now - 30}), ('labels', 77, {now - 7200})");
        await h.ExecuteAsync($"UPDATE {h.Tables.Queue} SET status = 'dead_letter', attempts = 5, last_error = 'XRPC createRecord failed: 400 InvalidRecord', updated_at = {now - 40 * 86400} WHERE local_id = (SELECT MIN(local_id) FROM (SELECT local_id FROM {h.Tables.Queue}) q)");
        return (h, a, b);
    }

    [Fact]
    public async Task Status_shows_streams_queue_by_status_dead_letters_users_and_boards()
    {
        var (h, _, _) = await SeededAsync();
        await using var _h = h;

        var json = await CliProcess.RunAsync(Settings(h), "status", "--json");
        Assert.True(json.ExitCode == ExitCodes.Ok, json.ToString());
        var root = json.Json;
        var streams = root.GetProperty("streams").EnumerateArray().ToDictionary(s => s.GetProperty("stream").GetString()!, s => s);
        Assert.Equal(123456, streams["firehose"].GetProperty("cursor").GetInt64());
        Assert.InRange(streams["firehose"].GetProperty("age_seconds").GetInt64(), 30, 90);
        Assert.InRange(streams["labels"].GetProperty("age_seconds").GetInt64(), 7200, 7260);
        Assert.Equal(2, root.GetProperty("queue").GetProperty("pending").GetInt64());
        Assert.Equal(0, root.GetProperty("queue").GetProperty("processing").GetInt64());
        Assert.Equal(1, root.GetProperty("queue").GetProperty("dead_letter").GetInt64());
        Assert.Equal(2, root.GetProperty("linked_users").GetInt64());
        Assert.Equal(1, root.GetProperty("boards").GetProperty("mapped").GetInt64());

        var text = await CliProcess.RunAsync(Settings(h), "status");
        Assert.Equal(ExitCodes.Ok, text.ExitCode);
        Assert.Contains("firehose", text.Stdout, StringComparison.Ordinal);
        Assert.Contains("123456", text.Stdout, StringComparison.Ordinal);
        Assert.Matches(@"pending\s+2", text.Stdout);
        Assert.Matches(@"dead_letter\s+1", text.Stdout);
        Assert.Contains("linked users: 2", text.Stdout, StringComparison.Ordinal);
        Assert.Contains("boards: 1 of 1 phpBB forums mapped", text.Stdout, StringComparison.Ordinal);
        Assert.Equal("", text.Stderr);
    }

    [Fact]
    public async Task Dead_letters_are_listed_requeued_by_id_and_purged_and_bad_selections_exit_non_zero()
    {
        var (h, _, _) = await SeededAsync();
        await using var _h = h;
        var settings = Settings(h);
        await h.ExecuteAsync($"UPDATE {h.Tables.Queue} SET status = 'dead_letter', last_error = 'second failure', updated_at = {DateTimeOffset.UtcNow.ToUnixTimeSeconds()} WHERE status = 'pending' LIMIT 1");

        var list = await CliProcess.RunAsync(settings, "dead-letters", "list", "--json");
        Assert.Equal(ExitCodes.Ok, list.ExitCode);
        var rows = list.Json.EnumerateArray().ToList();
        Assert.Equal(2, rows.Count);
        Assert.Contains(rows, r => r.GetProperty("last_error").GetString() == "XRPC createRecord failed: 400 InvalidRecord" && r.GetProperty("attempts").GetInt32() == 5);
        var text = await CliProcess.RunAsync(settings, "dead-letters", "list");
        Assert.Contains("second failure", text.Stdout, StringComparison.Ordinal);
        Assert.Contains("2 dead letters", text.Stdout, StringComparison.Ordinal);

        var recent = rows.Single(r => r.GetProperty("last_error").GetString() == "second failure").GetProperty("id").GetInt64();
        var old = rows.Single(r => r.GetProperty("id").GetInt64() != recent).GetProperty("id").GetInt64();

        Assert.Equal(ExitCodes.Usage, (await CliProcess.RunAsync(settings, "dead-letters", "retry")).ExitCode);
        var missing = await CliProcess.RunAsync(settings, "dead-letters", "retry", "--id", "999999", "--json");
        Assert.Equal(ExitCodes.Failed, missing.ExitCode);
        Assert.Equal(0, missing.Json.GetProperty("requeued").GetInt32());

        var retry = await CliProcess.RunAsync(settings, "dead-letters", "retry", "--id", recent.ToString());
        Assert.Equal(ExitCodes.Ok, retry.ExitCode);
        Assert.Equal("1 dead letters requeued\n", retry.Stdout);
        var state = (await h.QueueRowsAsync()).Single(r => r.Id == recent);
        Assert.Equal("pending", state.Status);
        Assert.Equal(0, state.Attempts);

        // --older-than keeps recent dead letters: only the 40-day-old one goes.
        await h.ExecuteAsync($"UPDATE {h.Tables.Queue} SET status = 'dead_letter', updated_at = {DateTimeOffset.UtcNow.ToUnixTimeSeconds()} WHERE id = {recent}");
        var purge = await CliProcess.RunAsync(settings, "dead-letters", "purge", "--older-than", "30d", "--json");
        Assert.Equal(ExitCodes.Ok, purge.ExitCode);
        Assert.Equal(1, purge.Json.GetProperty("purged").GetInt32());
        Assert.DoesNotContain(await h.QueueRowsAsync(), r => r.Id == old);
        Assert.Contains(await h.QueueRowsAsync(), r => r.Id == recent);
        Assert.Equal(ExitCodes.Usage, (await CliProcess.RunAsync(settings, "dead-letters", "purge", "--older-than", "soon")).ExitCode);
    }

    [Fact]
    public async Task Dead_letters_retry_puts_rows_back_and_the_queue_worker_sends_them()
    {
        await using var h = await QueueHarness.CreateAsync();
        var user = await h.LinkUserAsync();
        await h.ExecuteAsync($"UPDATE {h.Tables.Users} SET token_expires_at = NULL"); // the process runs on the real clock
        var (_, post) = await h.PostTopicAsync(user.UserId, "Refused once", "<t>x</t>");
        h.Pds.InjectFault(new PdsFault.Error(400, "InvalidRecord", "refused"), "com.atproto.repo.createRecord");
        await h.RunBatchAsync();
        Assert.Equal("dead_letter", Assert.Single(await h.QueueRowsAsync()).Status);
        Assert.Empty(h.Pds.Records);

        var retry = await CliProcess.RunAsync(Settings(h), "dead-letters", "retry", "--all", "--json");
        Assert.Equal(ExitCodes.Ok, retry.ExitCode);
        Assert.Equal(1, retry.Json.GetProperty("requeued").GetInt32());

        var settings = Settings(h);
        settings["QueueWorker__PollInterval"] = "00:00:00.200";
        await using var worker = ServiceProcess.Start("AtSync.QueueWorker", settings);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while ((await h.QueueRowsAsync()).Count > 0)
        {
            Assert.True(DateTime.UtcNow < deadline && !worker.HasExited, "the requeued row was not sent:\n" + worker.Output);
            await Task.Delay(100);
        }
        var state = await h.AtprotoPostAsync(post);
        Assert.Equal("synced", state!.SyncStatus);
        Assert.True(h.Pds.Records.ContainsKey(state.AtUri!));
        Assert.Equal(1, h.Pds.CreatesByUri.Values.Sum());
    }

    [Fact]
    public async Task Cursor_show_set_and_rewind()
    {
        var (h, _, _) = await SeededAsync();
        await using var _h = h;
        var settings = Settings(h);

        var show = await CliProcess.RunAsync(settings, "cursor", "show", "--json");
        Assert.Equal(ExitCodes.Ok, show.ExitCode);
        Assert.Equal(123456, show.Json.EnumerateArray().Single(c => c.GetProperty("stream").GetString() == "firehose").GetProperty("cursor").GetInt64());

        var set = await CliProcess.RunAsync(settings, "cursor", "set", "5000");
        Assert.Equal(ExitCodes.Ok, set.ExitCode);
        Assert.Equal("firehose: 123456 -> 5000\n", set.Stdout);
        // It was saved 30 s ago: a running Firehose would overwrite it, and the command says so.
        Assert.Contains("warning", set.Stderr, StringComparison.Ordinal);

        var rewind = await CliProcess.RunAsync(settings, "cursor", "rewind", "10s", "--rate", "100", "--json");
        Assert.Equal(ExitCodes.Ok, rewind.ExitCode);
        Assert.Equal(4000, rewind.Json.GetProperty("cursor").GetInt64());
        Assert.Equal(4000L, await h.ScalarAsync<long>($"SELECT cursor_value FROM {h.Tables.Cursors} WHERE service = 'firehose'"));

        var labels = await CliProcess.RunAsync(settings, "cursor", "rewind", "2h", "--rate", "1", "--stream", "labels", "--json");
        Assert.Equal(0, labels.Json.GetProperty("cursor").GetInt64()); // never below 0
        // No cursor sample is stored (the Firehose never ran here): without --rate, the answer is no, and it says why.
        var noSample = await CliProcess.RunAsync(settings, "cursor", "rewind", "10s");
        Assert.Equal(ExitCodes.Failed, noSample.ExitCode);
        Assert.Contains("no cursor sample of firehose is 10s old", noSample.Stderr, StringComparison.Ordinal);
        Assert.Contains("--rate", noSample.Stderr, StringComparison.Ordinal);
        Assert.Equal(4000L, await h.ScalarAsync<long>($"SELECT cursor_value FROM {h.Tables.Cursors} WHERE service = 'firehose'"));
        Assert.Equal(ExitCodes.Usage, (await CliProcess.RunAsync(settings, "cursor", "rewind", "10s", "--rate", "-3")).ExitCode);
        Assert.Equal(ExitCodes.Usage, (await CliProcess.RunAsync(settings, "cursor", "set", "1", "--stream", "plc")).ExitCode);
        Assert.Equal(ExitCodes.Usage, (await CliProcess.RunAsync(settings, "cursor", "rewind", "yesterday", "--rate", "5")).ExitCode);
    }

    [Fact]
    public async Task Cursor_rewind_by_time_uses_the_cursor_sampled_then_and_falls_back_to_the_rate()
    {
        var (h, _, _) = await SeededAsync();
        await using var _h = h;
        var settings = Settings(h);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        // What the Firehose leaves in atproto_cursor_samples (migration 700): the cursor at each minute.
        await h.ExecuteAsync($"""
            INSERT INTO {h.Tables.CursorSamples} (service, sampled_at, cursor_value) VALUES
              ('firehose', {now - 3600}, 100000), ('firehose', {now - 600}, 120000), ('firehose', {now - 60}, 123000), ('labels', {now - 86400}, 5)
            """);
        async Task<long> StoredAsync() => await h.ScalarAsync<long>($"SELECT cursor_value FROM {h.Tables.Cursors} WHERE service = 'firehose'");

        // 5 minutes back: the last sample at or before then is the one from 10 minutes ago.
        var fiveMinutes = await CliProcess.RunAsync(settings, "cursor", "rewind", "5m", "--json");
        Assert.Equal(ExitCodes.Ok, fiveMinutes.ExitCode);
        Assert.Equal("sample", fiveMinutes.Json.GetProperty("method").GetString());
        Assert.Equal(now - 600, fiveMinutes.Json.GetProperty("sampled_at").GetInt64());
        Assert.Equal(123456, fiveMinutes.Json.GetProperty("previous").GetInt64());
        Assert.Equal(120000L, await StoredAsync());

        // Further back (and a --rate given): the sample still wins over the estimate.
        var text = await CliProcess.RunAsync(settings, "cursor", "rewind", "15m", "--rate", "1000");
        Assert.Equal(ExitCodes.Ok, text.ExitCode);
        Assert.StartsWith($"firehose: 120000 -> 100000 (the cursor committed at {DateTimeOffset.FromUnixTimeSeconds(now - 3600):u})", text.Stdout, StringComparison.Ordinal);
        Assert.Equal(100000L, await StoredAsync());

        // Never forward: a rewind to a sample newer than the stored cursor keeps the cursor.
        var forward = await CliProcess.RunAsync(settings, "cursor", "rewind", "2m", "--json");
        Assert.Equal(100000, forward.Json.GetProperty("cursor").GetInt64());

        // Older than every sample: the rate, when given; otherwise exit 1 and nothing changes.
        Assert.Equal(ExitCodes.Failed, (await CliProcess.RunAsync(settings, "cursor", "rewind", "2h")).ExitCode);
        Assert.Equal(100000L, await StoredAsync());
        var estimate = await CliProcess.RunAsync(settings, "cursor", "rewind", "2h", "--rate", "2", "--json");
        Assert.Equal(ExitCodes.Ok, estimate.ExitCode);
        Assert.Equal("rate", estimate.Json.GetProperty("method").GetString());
        Assert.Equal(100000 - 7200 * 2, estimate.Json.GetProperty("cursor").GetInt64());

        // Each stream has its own samples.
        var labels = await CliProcess.RunAsync(settings, "cursor", "rewind", "1d", "--stream", "labels", "--json");
        Assert.Equal(5, labels.Json.GetProperty("cursor").GetInt64());
    }

    [Fact]
    public async Task Users_are_listed_with_their_key_version_and_unlinked_by_did()
    {
        var (h, a, b) = await SeededAsync();
        await using var _h = h;
        var settings = Settings(h);

        var list = await CliProcess.RunAsync(settings, "users", "list", "--json");
        Assert.Equal(ExitCodes.Ok, list.ExitCode);
        var users = list.Json.EnumerateArray().ToList();
        Assert.Equal([a.Did, b.Did], users.Select(u => u.GetProperty("did").GetString()));
        Assert.All(users, u => Assert.Equal("v1", u.GetProperty("key_version").GetString()));
        Assert.Equal($"u{a.UserId}", users[0].GetProperty("username").GetString());
        Assert.DoesNotContain(a.AccessToken, list.Stdout, StringComparison.Ordinal);
        var text = await CliProcess.RunAsync(settings, "users", "list");
        Assert.Contains(b.Did, text.Stdout, StringComparison.Ordinal);
        Assert.Contains("2 linked users", text.Stdout, StringComparison.Ordinal);

        var unlink = await CliProcess.RunAsync(settings, "users", "unlink", b.Did, "--json");
        Assert.Equal(ExitCodes.Ok, unlink.ExitCode);
        Assert.Equal(2, unlink.Json.GetProperty("queue_rows_dead_lettered").GetInt32());
        Assert.Equal(0L, await h.ScalarAsync<long>($"SELECT COUNT(*) FROM {h.Tables.Users} WHERE did = '{b.Did}'"));
        Assert.Equal(0L, await h.ScalarAsync<long>($"SELECT COUNT(*) FROM {h.Tables.Queue} WHERE user_did = '{b.Did}' AND status = 'pending'"));
        Assert.Equal(ExitCodes.Failed, (await CliProcess.RunAsync(settings, "users", "unlink", b.Did)).ExitCode);
        Assert.Equal(ExitCodes.Ok, (await CliProcess.RunAsync(settings, "users", "unlink", a.UserId.ToString())).ExitCode);
    }

    [Fact]
    public async Task Boards_are_listed_and_a_forum_is_mapped_to_a_board_record()
    {
        var (h, _, _) = await SeededAsync();
        await using var _h = h;
        var settings = Settings(h);
        await h.ExecuteAsync($"INSERT INTO {h.Tables.PhpbbForums} (forum_id, forum_name, forum_parents, forum_desc, forum_rules) VALUES (2, 'Off topic', '', '', '')");

        var before = await CliProcess.RunAsync(settings, "boards", "list", "--json");
        var boards = before.Json.EnumerateArray().ToList();
        Assert.Equal(QueueHarness.ForumBoardUri, boards[0].GetProperty("at_uri").GetString());
        Assert.Equal(JsonValueKind.Null, boards[1].GetProperty("at_uri").ValueKind);

        var uri = $"at://{ServiceSettings.ForumDid}/net.vza.forum.board/3kofftopic22";
        var map = await CliProcess.RunAsync(settings, "boards", "map", "2", uri, "--slug", "off-topic");
        Assert.True(map.ExitCode == ExitCodes.Ok, map.ToString());
        var text = await CliProcess.RunAsync(settings, "boards", "list");
        Assert.Contains(uri, text.Stdout, StringComparison.Ordinal);
        Assert.Contains("2 of 2 forums mapped", text.Stdout, StringComparison.Ordinal);
        Assert.Equal("off-topic", await h.ScalarAsync<string>($"SELECT slug FROM {h.Tables.Forums} WHERE forum_id = 2"));

        Assert.Equal(ExitCodes.Usage, (await CliProcess.RunAsync(settings, "boards", "map", "2", "https://example.com/board")).ExitCode);
        Assert.Equal(ExitCodes.Usage, (await CliProcess.RunAsync(settings, "boards", "map", "2", $"at://{ServiceSettings.ForumDid}/net.vza.forum.post/3k")).ExitCode);
        Assert.Equal(ExitCodes.Failed, (await CliProcess.RunAsync(settings, "boards", "map", "99", uri)).ExitCode);
        Assert.Equal(ExitCodes.Failed, (await CliProcess.RunAsync(settings, "boards", "map", "1", uri)).ExitCode); // already mapped to forum 2
    }

    [Fact]
    public async Task Missing_settings_and_an_unreachable_database_give_one_line_and_their_exit_codes()
    {
        var none = await CliProcess.RunAsync(new Dictionary<string, string?>(), "status");
        Assert.Equal(ExitCodes.Usage, none.ExitCode);
        Assert.Equal("atsync: ConnectionStrings__phpbb is missing.\n", none.Stderr);

        var port = ServiceProcess.FreeLoopbackPort();
        var down = await CliProcess.RunAsync(new Dictionary<string, string?>
        {
            ["ConnectionStrings__phpbb"] = $"Server=127.0.0.1;Port={port};User ID=u;Password=SECRET-pw;Database=d;Connection Timeout=2",
        }, "status");
        Assert.Equal(ExitCodes.Unavailable, down.ExitCode);
        Assert.StartsWith("atsync: database error", down.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("SECRET", down.Stderr, StringComparison.Ordinal);
    }

    /// <summary>Each command path, and the arguments that fill its required slots (so an extra word is extra, not an argument).</summary>
    public static TheoryData<string, string> CommandPaths => new()
    {
        { "", "" }, { "status", "" }, { "dead-letters", "" }, { "dead-letters list", "" }, { "dead-letters retry", "" }, { "dead-letters purge", "" },
        { "cursor", "" }, { "cursor show", "" }, { "cursor set", "1" }, { "cursor rewind", "10s --rate 1" }, { "users", "" }, { "users list", "" },
        { "users unlink", "5" }, { "boards", "" }, { "boards list", "" }, { "boards map", "1 at://did:plc:x/net.vza.forum.board/b" }, { "keys", "" },
        { "keys reencrypt", "" }, { "replay", "capture.bin" }, { "doctor", "" },
    };

    [Theory]
    [MemberData(nameof(CommandPaths))]
    public async Task Every_command_has_help_and_an_unknown_word_is_a_usage_error(string path, string required)
    {
        var words = path.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var help = await CliProcess.RunAsync(new Dictionary<string, string?>(), [.. words, "--help"]);
        Assert.Equal(ExitCodes.Ok, help.ExitCode);
        Assert.Contains("Usage:", help.Stdout, StringComparison.Ordinal);
        Assert.Contains($"atsync {path}".TrimEnd(), help.Stdout, StringComparison.Ordinal);
        var unknown = await CliProcess.RunAsync(new Dictionary<string, string?>(), [.. words, .. required.Split(' ', StringSplitOptions.RemoveEmptyEntries), "--frobnicate"]);
        Assert.Equal(ExitCodes.Usage, unknown.ExitCode);
        Assert.Contains("Unrecognized command or argument '--frobnicate'", unknown.Stderr, StringComparison.Ordinal);
        Assert.Equal("", unknown.Stdout);
    }
}
