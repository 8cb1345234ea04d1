using AtSync.Core.Forum;
using AtSync.Core.Forum.Text;
using AtSync.Firehose;
using AtSync.Firehose.Events;
using AtSync.Testing;
using AtSync.Testing.Synthetic;
using AtSync.Tests.Firehose;
using AtSync.Tests.Infrastructure;
using AtSync.Tests.QueueWorker;
using MySqlConnector;

namespace AtSync.Tests.Core;

/// <summary>
/// The services' statements raise no MySQL warnings (deprecated forms such as <c>VALUES(col)</c> in
/// <c>ON DUPLICATE KEY UPDATE</c>, values truncated or clamped by the server, …): a server with statement digests
/// (<c>performance_schema</c>, which counts each statement's warnings) runs the migrations, the Firehose's writes
/// for posts, edits, deletes, labels (also ones with out-of-range values), identity and account events, and the
/// QueueWorker's claim/publish/finish cycle, then no statement on those databases shows a warning.
/// </summary>
public sealed class StatementWarningTests
{
    private const string Alice = "did:plc:aliceaaaaaaaaaaaaaaaaaaa";
    private const string Bob = "did:plc:bobbbbbbbbbbbbbbbbbbbbbb";
    private static readonly string BoardUri = $"at://{FirehoseHarness.ForumDid}/net.vza.forum.board/3kboardgeneral";
    private static readonly StrongRef Board = new(BoardUri, "bafyreib2rxk3rybk3aobmv5cjuql3bm2twh4jo5uxgf5vadynilrvz6qcy");
    private static readonly DateTimeOffset T0 = new(2026, 7, 4, 15, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task The_services_statements_raise_no_warnings_on_the_installer_made_schema()
    {
        await using var server = await MariaDbServer.StartDedicatedAsync(new MariaDbServerOptions(PerformanceSchema: true));

        // Firehose.
        await using var database = await server.CreateDatabaseAsync();
        await FirehoseHarness.PrepareForumAsync(database, BoardUri);
        using var frames = ForumFrameFactory.Create();
        await using var relay = await LoopbackRelay.StartAsync(FirehoseStreams.SubscribeReposPath);
        await using var labeler = await LoopbackRelay.StartAsync(FirehoseStreams.SubscribeLabelsPath);
        var topic = frames.Post(1, Alice, "3ktopic00001", new ForumPostRecord("Hello 😀 " + new string('x', 300), "2026-07-04T14:59:00.000Z", Board,
            string.Concat(Enumerable.Repeat("Subject 🎉 ", 40)), null, null, null), T0);
        var root = new StrongRef(topic.Uri, topic.RecordCid!);
        var reply = frames.Post(2, Bob, "3kreply00001", new ForumPostRecord("reply 中文", "2026-07-04T15:00:30.000Z", Board, null, root, root, null), T0.AddMinutes(1));
        var edit = frames.Post(3, Alice, "3ktopic00001", new ForumPostRecord("Hello again 👋", "2026-07-04T14:59:00.000Z", Board, "subject 🎉", null, null, null), T0.AddMinutes(2), update: true);
        var replyEdit = frames.Post(4, Bob, "3kreply00001", new ForumPostRecord("reply, edited", "2026-07-04T15:00:30.000Z", Board, null, root, root, null), T0.AddMinutes(3), update: true);
        relay.Publish([
            (1, topic.Frame), (2, reply.Frame), (3, edit.Frame), (4, replyEdit.Frame),
            (5, ForumFrameFactory.Identity(5, Alice, "alice.test", T0.AddMinutes(4))),
            (6, ForumFrameFactory.Identity(6, Bob, "bób.tést", T0.AddMinutes(4))),
            (7, ForumFrameFactory.Account(7, Alice, false, "takendown ✋ " + new string('s', 80), T0.AddMinutes(5))),
            (8, ForumFrameFactory.Account(8, Bob, true, null, T0.AddMinutes(6))),
            (9, frames.Delete(9, Bob, "3kreply00001", T0.AddMinutes(7)).Frame),
        ]);
        await using (var firehose = await FirehoseHarness.StartAsync(database, relay.Url, labelerUrl: labeler.Url, signingKey: frames.SigningKey.PublicKey))
        {
            await firehose.WaitForCursorAsync(FirehoseStreams.RepoService, 9);
            var at = T0.AddMinutes(10);
            labeler.Publish([
                (100, ForumFrameFactory.Labels(100, FirehoseHarness.LabelerKey,
                    new LabelRecord(FirehoseHarness.LabelerDid, topic.Uri, topic.RecordCid, "!hide", false, at, new DateTimeOffset(1969, 12, 31, 0, 0, 0, TimeSpan.Zero)),
                    new LabelRecord(FirehoseHarness.LabelerDid, topic.Uri, null, "spöiler", false, at, null),
                    new LabelRecord(FirehoseHarness.LabelerDid, topic.Uri, null, "!warn", false, at, null))),
            ]);
            await firehose.WaitForCursorAsync(FirehoseStreams.LabelService, 100);
            // A hide that expired before 1970 is stored as expired (0), not refused by the unsigned column.
            Assert.Equal(0L, await database.ScalarAsync<long>($"SELECT expires_at FROM {database.Tables.Labels} WHERE label_value = '!hide'"));
            labeler.Publish(101, ForumFrameFactory.Labels(101, FirehoseHarness.LabelerKey, new LabelRecord(FirehoseHarness.LabelerDid, topic.Uri, topic.RecordCid, "!hide", true, at.AddMinutes(1), null)));
            await firehose.WaitForCursorAsync(FirehoseStreams.LabelService, 101);
            Assert.Equal(0, FirehoseHarness.Sum(firehose.Skipped, "reason", "write_failed"));
            Assert.Equal(1, FirehoseHarness.Sum(firehose.Skipped, "reason", "invalid_label"));
            // The #identity events' own handles (one not even ASCII) are claims: only re-checked handles are stored.
            Assert.Equal(2, FirehoseHarness.Sum(firehose.ForumOps, "action", "identity"));
        }
        var t = database.Tables;
        Assert.Equal("takendown ? " + new string('s', 52), await database.ScalarAsync<string>($"SELECT status FROM {t.Accounts} WHERE did = '{Alice}'"));

        // QueueWorker, on a database of its own on the same server.
        await using (var h = await QueueHarness.CreateAsync(server: server))
        {
            var user = await h.LinkUserAsync();
            var (topicId, postId) = await h.PostTopicAsync(user.UserId, PhpbbColumnText.Subject("Queue 🎉"), PhpbbText.FromRecordText("text 😀"));
            await h.PostReplyAsync(topicId, user.UserId, "<t>reply</t>");
            await h.DrainAsync();
            await h.ExecuteAsync($"UPDATE {h.Tables.PhpbbPosts} SET post_subject = 'queue &#127881;' WHERE post_id = {postId}");
            await h.DrainAsync();
            await h.ExecuteAsync($"UPDATE {h.Tables.PhpbbPosts} SET post_visibility = 2 WHERE post_id = {postId}");
            await h.DrainAsync();
            Assert.Empty(await h.QueueRowsAsync());
            await AssertNoWarningsAsync(server, database.Name, h.Database.Name);
        }
    }

    /// <summary>
    /// Forms MySQL 8 deprecates but MariaDB does not (so the server above would not warn): <c>VALUES(col)</c> in
    /// <c>ON DUPLICATE KEY UPDATE</c> (8.0.20), the <c>BINARY</c> operator (8.0.27); and the row alias that replaces
    /// <c>VALUES()</c> on MySQL (<c>AS new</c>), which MariaDB does not parse.
    /// </summary>
    [Fact]
    public void The_services_sql_uses_no_form_deprecated_by_MySQL_8_or_unknown_to_MariaDB()
    {
        var forms = new (string Name, System.Text.RegularExpressions.Regex Pattern)[]
        {
            ("VALUES(col) in ON DUPLICATE KEY UPDATE", new(@"ON DUPLICATE KEY UPDATE[^;]*?\bVALUES\s*\(", System.Text.RegularExpressions.RegexOptions.IgnoreCase | System.Text.RegularExpressions.RegexOptions.Singleline)),
            ("the BINARY operator", new(@"\bBINARY\s+(OLD|NEW|@|[a-z_]+\.)", System.Text.RegularExpressions.RegexOptions.IgnoreCase)),
            ("a row alias (AS new)", new(@"\)\s+AS\s+new\b(?!\s*\()", System.Text.RegularExpressions.RegexOptions.IgnoreCase)),
        };
        var found = new List<string>();
        var files = new[] { "AtSync.Core", "AtSync.Firehose", "AtSync.QueueWorker" }
            .SelectMany(project => Directory.EnumerateFiles(Path.Combine(RepositoryPaths.Root, project), "*.cs", SearchOption.AllDirectories))
            .Where(path => !path.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !path.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .ToList();
        foreach (var file in files)
        {
            // Statements only: comments may name the forms they avoid.
            var code = string.Join('\n', File.ReadLines(file).Where(line => !line.TrimStart().StartsWith("//", StringComparison.Ordinal)));
            foreach (var (name, pattern) in forms)
            {
                foreach (System.Text.RegularExpressions.Match match in pattern.Matches(code))
                {
                    found.Add($"{Path.GetRelativePath(RepositoryPaths.Root, file)}: {name}: {match.Value}");
                }
            }
        }
        Assert.True(files.Count > 20, "the services' sources were not found");
        Assert.True(found.Count == 0, string.Join('\n', found));
    }

    private static async Task AssertNoWarningsAsync(MariaDbServer server, params string[] schemas)
    {
        await using var connection = new MySqlConnection(server.AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new MySqlCommand($"""
            SELECT SCHEMA_NAME, DIGEST_TEXT, SUM_WARNINGS FROM performance_schema.events_statements_summary_by_digest
            WHERE SCHEMA_NAME IN ({string.Join(',', schemas.Select(s => $"'{s}'"))}) AND SUM_WARNINGS > 0
            """, connection);
        var warned = new List<string>();
        var statements = 0L;
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync()) warned.Add($"{reader.GetString(0)}: {reader.GetString(1)} ({reader.GetInt64(2)} warnings)");
        }
        await using (var count = new MySqlCommand($"""
            SELECT COALESCE(SUM(COUNT_STAR), 0) FROM performance_schema.events_statements_summary_by_digest
            WHERE SCHEMA_NAME IN ({string.Join(',', schemas.Select(s => $"'{s}'"))})
            """, connection))
        {
            statements = Convert.ToInt64(await count.ExecuteScalarAsync());
        }
        // The digests saw the run (so an empty list means something).
        Assert.True(statements > 100, $"only {statements} statements recorded");
        Assert.True(warned.Count == 0, "statements with warnings:\n" + string.Join('\n', warned));
    }
}
