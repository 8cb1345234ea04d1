using AtSync.Core.Forum;
using AtSync.Firehose;
using AtSync.Firehose.Events;
using AtSync.Testing;
using AtSync.Testing.Synthetic;
using AtSync.Tests.Infrastructure;
using MySqlConnector;

namespace AtSync.Tests.Firehose;

/// <summary>
/// The Firehose end to end: a loopback relay serving the 150 real corpus frames followed by forum frames built here
/// (valid CAR, signed commits), into phpBB's tables in a real MariaDB. Asserts rows, counters, cursor and metrics.
/// </summary>
public sealed class ForumStreamTests
{
    private const string Alice = "did:plc:aliceaaaaaaaaaaaaaaaaaaa";
    private const string Bob = "did:plc:bobbbbbbbbbbbbbbbbbbbbbb";
    private static readonly string BoardUri = $"at://{FirehoseHarness.ForumDid}/net.vza.forum.board/3kboardgeneral";
    private static readonly StrongRef Board = new(BoardUri, "bafyreib2rxk3rybk3aobmv5cjuql3bm2twh4jo5uxgf5vadynilrvz6qcy");
    private static readonly DateTimeOffset T0 = new(2026, 7, 4, 15, 0, 0, TimeSpan.Zero);

    private static long CorpusLastSeq => 31527015471;

    private static IEnumerable<(long, byte[])> CorpusFrames()
    {
        var seq = 31527015322L;
        foreach (var frame in CorpusFiles.FirehoseFrames()) yield return (seq++, frame);
    }

    private static ForumPostRecord Topic(string subject, string text) => new(text, "2026-07-04T14:59:00.000Z", Board, subject, null, null, null);

    private static ForumPostRecord Reply(StrongRef root, string text) => new(text, "2026-07-04T15:00:30.000Z", Board, null, root, root, null);

    [Fact]
    public async Task Topics_replies_edits_and_deletes_land_in_phpbb_with_phpbb_counters_cursor_and_metrics()
    {
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync();
        var forumId = await FirehoseHarness.PrepareForumAsync(database, BoardUri);
        using var frames = ForumFrameFactory.Create();
        await using var relay = await LoopbackRelay.StartAsync(FirehoseStreams.SubscribeReposPath);
        relay.Publish(CorpusFrames());

        var seq = CorpusLastSeq;
        var topic = frames.Post(++seq, Alice, "3ktopic00001", Topic("Hello forum", "First [b]post[/b] <here> & there"), T0);
        var root = new StrongRef(topic.Uri, topic.RecordCid!);
        var reply1 = frames.Post(++seq, Bob, "3kreply00001", Reply(root, "A reply from Bob"), T0.AddMinutes(1));
        var reply2 = frames.Post(++seq, Alice, "3kreply00002", Reply(root, "Alice answers"), T0.AddMinutes(2));
        var edit = frames.Post(++seq, Alice, "3kreply00002", Reply(root, "Alice answers (edited)"), T0.AddMinutes(3), update: true);
        var delete = frames.Delete(++seq, Bob, "3kreply00001", T0.AddMinutes(4));
        var elsewhere = frames.Post(++seq, Bob, "3ktopic00009", Topic("Wrong forum", "x") with
        {
            Forum = new StrongRef($"at://{FirehoseHarness.ForumDid}/net.vza.forum.board/3kunknownboard", Board.Cid),
        }, T0.AddMinutes(5));
        var noSubject = frames.Post(++seq, Bob, "3ktopic00010", Topic("x", "no subject") with { Subject = null }, T0.AddMinutes(5));
        var other = frames.Other(++seq, Bob, 3, T0.AddMinutes(6));
        var lastSeq = seq;
        relay.Publish([
            (lastSeq - 7, topic.Frame), (lastSeq - 6, reply1.Frame), (lastSeq - 5, reply2.Frame), (lastSeq - 4, edit.Frame),
            (lastSeq - 3, delete.Frame), (lastSeq - 2, elsewhere.Frame), (lastSeq - 1, noSubject.Frame), (lastSeq, other),
        ]);

        await using var firehose = await FirehoseHarness.StartAsync(database, relay.Url, signingKey: frames.SigningKey.PublicKey);
        await firehose.WaitForCursorAsync(FirehoseStreams.RepoService, lastSeq);

        var t = database.Tables;
        // One topic with three posts: Bob's reply soft-deleted, Alice's reply edited.
        Assert.Equal(1L, await database.ScalarAsync<long>($"SELECT COUNT(*) FROM {t.PhpbbTopics}"));
        Assert.Equal(3L, await database.ScalarAsync<long>($"SELECT COUNT(*) FROM {t.PhpbbPosts}"));
        var topicRow = await RowAsync(database, $"""
            SELECT topic_id, forum_id, topic_title, topic_posts_approved, topic_posts_softdeleted, topic_visibility,
                   topic_first_post_id, topic_last_post_id, topic_last_post_subject, topic_first_poster_name, topic_last_poster_name
            FROM {t.PhpbbTopics}
            """);
        Assert.Equal((long)forumId, topicRow["forum_id"]);
        Assert.Equal("Hello forum", topicRow["topic_title"]);
        Assert.Equal(2L, topicRow["topic_posts_approved"]);
        Assert.Equal(1L, topicRow["topic_posts_softdeleted"]);
        Assert.Equal(1L, topicRow["topic_visibility"]);

        var posts = await RowsAsync(database, $"""
            SELECT p.post_id, p.post_visibility, p.post_text, p.post_edit_count, p.post_time, p.poster_id, ap.at_uri, ap.at_cid, ap.sync_status, ap.is_topic_starter
            FROM {t.PhpbbPosts} p JOIN {t.Posts} ap ON ap.post_id = p.post_id ORDER BY p.post_id
            """);
        Assert.Equal([topic.Uri, reply1.Uri, reply2.Uri], posts.Select(p => (string)p["at_uri"]!));
        Assert.Equal([1L, 2L, 1L], posts.Select(p => (long)p["post_visibility"]!));
        // s9e TextFormatter's XML as phpBB stores it: the BBCode parsed, its markup kept for the edit form, the rest escaped.
        Assert.Equal("<r>First <B><s>[b]</s>post<e>[/b]</e></B> &lt;here&gt; &amp; there</r>", posts[0]["post_text"]);
        Assert.Equal("<t>Alice answers (edited)</t>", posts[2]["post_text"]);
        Assert.Equal(1L, posts[2]["post_edit_count"]);
        Assert.Equal(edit.RecordCid, posts[2]["at_cid"]);
        Assert.Equal("deleted", posts[1]["sync_status"]);
        Assert.Equal(1L, posts[0]["is_topic_starter"]);
        Assert.Equal(DateTimeOffset.Parse("2026-07-04T14:59:00Z").ToUnixTimeSeconds(), posts[0]["post_time"]);
        Assert.Equal(posts[0]["post_id"], topicRow["topic_first_post_id"]);
        Assert.Equal(posts[2]["post_id"], topicRow["topic_last_post_id"]);

        // Two users, created for the DIDs (no handle reachable: named from the DID), post counts without the deleted reply.
        var users = await RowsAsync(database, $"""
            SELECT au.did, u.username, u.username_clean, u.user_posts FROM {t.Users} au JOIN {t.PhpbbUsers} u ON u.user_id = au.user_id ORDER BY au.did
            """);
        Assert.Equal([Alice, Bob], users.Select(u => (string)u["did"]!));
        Assert.Equal("did-plc-aliceaaaaaaaaaaaaaaaaaaa", users[0]["username"]);
        Assert.Equal([2L, 0L], users.Select(u => (long)u["user_posts"]!));
        Assert.Equal(users[0]["username"], topicRow["topic_first_poster_name"]);

        var forum = await RowAsync(database, $"SELECT forum_posts_approved, forum_posts_softdeleted, forum_topics_approved, forum_last_post_id FROM {t.PhpbbForums} WHERE forum_id = {forumId}");
        Assert.Equal(2L, forum["forum_posts_approved"]);
        Assert.Equal(1L, forum["forum_posts_softdeleted"]);
        Assert.Equal(1L, forum["forum_topics_approved"]);
        Assert.Equal(posts[2]["post_id"], forum["forum_last_post_id"]);

        // Cursor and metrics: every corpus frame was seen, forum ops counted by action, skips by reason.
        Assert.Equal(lastSeq, await firehose.CursorAsync(FirehoseStreams.RepoService));
        Assert.Equal(148 + 8, FirehoseHarness.Sum(firehose.Events, "type", "commit"));
        Assert.Equal(1, FirehoseHarness.Sum(firehose.Events, "type", "identity"));
        Assert.Equal(1, FirehoseHarness.Sum(firehose.Events, "type", "account"));
        Assert.Equal(1, FirehoseHarness.Sum(firehose.ForumOps, "action", "topic"));
        Assert.Equal(2, FirehoseHarness.Sum(firehose.ForumOps, "action", "reply"));
        Assert.Equal(1, FirehoseHarness.Sum(firehose.ForumOps, "action", "edit"));
        Assert.Equal(1, FirehoseHarness.Sum(firehose.ForumOps, "action", "delete"));
        Assert.Equal(1, FirehoseHarness.Sum(firehose.Skipped, "reason", "unknown_forum"));
        Assert.Equal(1, FirehoseHarness.Sum(firehose.Skipped, "reason", "no_subject"));
        Assert.Equal(144 + 2 + 4 + 3, FirehoseHarness.Sum(firehose.Skipped, "reason", "not_forum"));
        Assert.Equal(0, FirehoseHarness.Sum(firehose.DecodeErrors));
        Assert.NotEmpty(firehose.BatchCommits.GetMeasurementSnapshot());
        Assert.Equal(150 + 8, firehose.FrameToCommit.GetMeasurementSnapshot().Count);
    }

    internal static async Task<Dictionary<string, object?>> RowAsync(TestDatabase database, string sql) => Assert.Single(await RowsAsync(database, sql));

    internal static async Task<List<Dictionary<string, object?>>> RowsAsync(TestDatabase database, string sql)
    {
        await using var connection = await database.OpenAsync();
        await using var command = new MySqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<Dictionary<string, object?>>();
        while (await reader.ReadAsync())
        {
            var row = new Dictionary<string, object?>(StringComparer.Ordinal);
            for (var i = 0; i < reader.FieldCount; i++)
            {
                var value = reader.IsDBNull(i) ? null : reader.GetValue(i);
                row[reader.GetName(i)] = value switch
                {
                    byte or sbyte or short or ushort or int or uint or long => Convert.ToInt64(value),
                    ulong u => (long)u,
                    bool b => b ? 1L : 0L,
                    _ => value,
                };
            }
            rows.Add(row);
        }
        return rows;
    }
}
