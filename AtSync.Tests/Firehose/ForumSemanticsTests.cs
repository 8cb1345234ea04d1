using System.Net;
using AtSync.Core.Forum;
using AtSync.Firehose;
using AtSync.Firehose.Events;
using AtSync.Testing;
using AtSync.Testing.Synthetic;
using AtSync.Tests.Infrastructure;
using MySqlConnector;
using static AtSync.Tests.Firehose.ForumStreamTests;

namespace AtSync.Tests.Firehose;

/// <summary>Parked replies, echoes of mapped posts, identity and account events, labels: rows and metrics.</summary>
public sealed class ForumSemanticsTests
{
    private const string Alice = "did:plc:aliceaaaaaaaaaaaaaaaaaaa";
    private const string Bob = "did:plc:bobbbbbbbbbbbbbbbbbbbbbb";
    private const string Carol = "did:plc:carolccccccccccccccccccc";
    private static readonly string BoardUri = $"at://{FirehoseHarness.ForumDid}/net.vza.forum.board/3kboardgeneral";
    private static readonly StrongRef Board = new(BoardUri, "bafyreib2rxk3rybk3aobmv5cjuql3bm2twh4jo5uxgf5vadynilrvz6qcy");
    private static readonly DateTimeOffset T0 = new(2026, 7, 4, 15, 0, 0, TimeSpan.Zero);

    private static ForumPostRecord Topic(string subject, string text) => new(text, "2026-07-04T14:59:00.000Z", Board, subject, null, null, null);

    private static ForumPostRecord Reply(StrongRef root, string text) => new(text, "2026-07-04T15:00:30.000Z", Board, null, root, root, null);

    [Fact]
    public async Task A_reply_before_its_topic_is_parked_then_applied_when_the_topic_arrives()
    {
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync();
        await FirehoseHarness.PrepareForumAsync(database, BoardUri);
        using var frames = ForumFrameFactory.Create();
        await using var relay = await LoopbackRelay.StartAsync(FirehoseStreams.SubscribeReposPath);

        // The topic's record is built first (its CID is the reply's root), but the relay delivers the reply first.
        var topic = frames.Post(3, Alice, "3ktopic00001", Topic("Late topic", "root"), T0.AddMinutes(1));
        var root = new StrongRef(topic.Uri, topic.RecordCid!);
        var reply = frames.Post(1, Bob, "3kreply00001", Reply(root, "early reply"), T0);
        var replyEdit = frames.Post(2, Bob, "3kreply00001", Reply(root, "early reply, edited while parked"), T0.AddSeconds(30), update: true);
        relay.Publish([(1, reply.Frame), (2, replyEdit.Frame)]);
        await using var firehose = await FirehoseHarness.StartAsync(database, relay.Url, signingKey: frames.SigningKey.PublicKey);
        await firehose.WaitForCursorAsync(FirehoseStreams.RepoService, 2);

        var t = database.Tables;
        Assert.Equal(0L, await database.ScalarAsync<long>($"SELECT COUNT(*) FROM {t.PhpbbPosts}"));
        Assert.Equal(1L, await database.ScalarAsync<long>($"SELECT COUNT(*) FROM {t.ParkedPosts} WHERE root_uri = '{topic.Uri}'"));

        relay.Publish(3, topic.Frame);
        await firehose.WaitForCursorAsync(FirehoseStreams.RepoService, 3);

        Assert.Equal(0L, await database.ScalarAsync<long>($"SELECT COUNT(*) FROM {t.ParkedPosts}"));
        var posts = await RowsAsync(database, $"SELECT p.topic_id, p.post_text, ap.at_uri, ap.at_cid FROM {t.PhpbbPosts} p JOIN {t.Posts} ap ON ap.post_id = p.post_id ORDER BY p.post_id");
        Assert.Equal([topic.Uri, reply.Uri], posts.Select(p => (string)p["at_uri"]!));
        Assert.Equal(posts[0]["topic_id"], posts[1]["topic_id"]);
        Assert.Equal("<t>early reply, edited while parked</t>", posts[1]["post_text"]);
        Assert.Equal(replyEdit.RecordCid, posts[1]["at_cid"]);
        Assert.Equal(2L, await database.ScalarAsync<long>($"SELECT topic_posts_approved FROM {t.PhpbbTopics}"));
        Assert.Equal(2, FirehoseHarness.Sum(firehose.ForumOps, "action", "parked"));
        Assert.Equal(1, FirehoseHarness.Sum(firehose.ForumOps, "action", "unparked"));
        Assert.Equal(1, FirehoseHarness.Sum(firehose.ForumOps, "action", "reply"));
    }

    [Fact]
    public async Task The_echo_of_a_post_already_mapped_updates_its_cid_and_status_without_a_second_post()
    {
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync();
        var forumId = await FirehoseHarness.PrepareForumAsync(database, BoardUri);
        using var frames = ForumFrameFactory.Create();
        var t = database.Tables;

        // A phpBB post the QueueWorker published: mapped to its AT-URI, CID not yet confirmed.
        var echo = frames.Post(10, Alice, "3kfromphpbb1", Topic("Written on phpBB", "hello"), T0);
        await database.ExecuteAsync($"""
            INSERT INTO {t.PhpbbTopics} (forum_id, topic_title, topic_posts_approved, topic_visibility) VALUES ({forumId}, 'Written on phpBB', 1, 1);
            INSERT INTO {t.PhpbbPosts} (post_id, topic_id, forum_id, poster_id, post_subject, post_text, post_visibility) VALUES (77, LAST_INSERT_ID(), {forumId}, 2, 'Written on phpBB', '<t>hello</t>', 1);
            INSERT INTO {t.Posts} (post_id, at_uri, at_cid, author_did, is_topic_starter, sync_status) VALUES (77, '{echo.Uri}', NULL, '{Alice}', 1, 'pending');
            """);
        await using var relay = await LoopbackRelay.StartAsync(FirehoseStreams.SubscribeReposPath);
        relay.Publish(10, echo.Frame);
        await using var firehose = await FirehoseHarness.StartAsync(database, relay.Url, signingKey: frames.SigningKey.PublicKey);
        await firehose.WaitForCursorAsync(FirehoseStreams.RepoService, 10);

        Assert.Equal(1L, await database.ScalarAsync<long>($"SELECT COUNT(*) FROM {t.PhpbbPosts}"));
        Assert.Equal(1L, await database.ScalarAsync<long>($"SELECT COUNT(*) FROM {t.PhpbbTopics}"));
        var mapping = await RowAsync(database, $"SELECT at_cid, sync_status FROM {t.Posts} WHERE post_id = 77");
        Assert.Equal(echo.RecordCid, mapping["at_cid"]);
        Assert.Equal("synced", mapping["sync_status"]);
        Assert.Equal(0L, await database.ScalarAsync<long>($"SELECT COUNT(*) FROM {t.PhpbbUsers}"));
        Assert.Equal(1, FirehoseHarness.Sum(firehose.ForumOps, "action", "echo"));
        Assert.Equal(0, FirehoseHarness.Sum(firehose.ForumOps, "action", "topic"));
    }

    [Fact]
    public async Task Posts_the_firehose_writes_are_not_echoed_by_the_queue_outbox_triggers()
    {
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync();
        await FirehoseHarness.PrepareForumAsync(database, BoardUri);
        var t = database.Tables;
        using var frames = ForumFrameFactory.Create();
        await using var relay = await LoopbackRelay.StartAsync(FirehoseStreams.SubscribeReposPath);
        var topic = frames.Post(1, Alice, "3ktopic00001", Topic("Marked", "x"), T0);
        relay.Publish([
            (1, topic.Frame),
            (2, frames.Post(2, Bob, "3kreply00001", Reply(new StrongRef(topic.Uri, topic.RecordCid!), "y"), T0.AddMinutes(1)).Frame),
            (3, frames.Post(3, Alice, "3ktopic00001", Topic("Marked (edited)", "x2"), T0.AddMinutes(2), update: true).Frame),
        ]);
        await using var firehose = await FirehoseHarness.StartAsync(database, relay.Url, signingKey: frames.SigningKey.PublicKey);
        await firehose.WaitForCursorAsync(FirehoseStreams.RepoService, 3);

        // The authors are linked in atproto_users (the Firehose created them), so the real outbox triggers would
        // enqueue their posts and the edit — unless the Firehose's session carries the origin mark.
        Assert.Equal(2L, await database.ScalarAsync<long>($"SELECT COUNT(*) FROM {t.Users}"));
        Assert.Equal(0L, await database.ScalarAsync<long>($"SELECT COUNT(*) FROM {t.Queue}"));

        // The same author writing through phpBB (an unmarked session): without an AtSync session nothing can be
        // published for her (migration 202), once she links through AtSync it is enqueued: the triggers are live.
        var aliceId = await database.ScalarAsync<long>($"SELECT user_id FROM {t.Users} WHERE did = '{Alice}'");
        var topicId = await database.ScalarAsync<long>($"SELECT topic_id FROM {t.PhpbbTopics} LIMIT 1");
        var forumId = await database.ScalarAsync<long>($"SELECT forum_id FROM {t.PhpbbTopics} LIMIT 1");
        await database.ExecuteAsync(
            $"INSERT INTO {t.PhpbbPosts} (topic_id, forum_id, poster_id, post_visibility, post_time, post_text) VALUES ({topicId}, {forumId}, {aliceId}, 1, 1700000000, '<t>from phpBB</t>')");
        Assert.Equal(0L, await database.ScalarAsync<long>($"SELECT COUNT(*) FROM {t.Queue}"));
        await database.ExecuteAsync($"UPDATE {t.Users} SET access_token = 'sealed', refresh_token = 'sealed' WHERE did = '{Alice}'");
        await database.ExecuteAsync(
            $"INSERT INTO {t.PhpbbPosts} (topic_id, forum_id, poster_id, post_visibility, post_time, post_text) VALUES ({topicId}, {forumId}, {aliceId}, 1, 1700000001, '<t>linked now</t>')");
        Assert.Equal("create", await database.ScalarAsync<string>($"SELECT operation FROM {t.Queue}"));
    }

    [Fact]
    public async Task Users_are_named_from_their_verified_handle_deduplicated_and_follow_identity_and_account_events()
    {
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync();
        await FirehoseHarness.PrepareForumAsync(database, BoardUri);
        var t = database.Tables;
        // A phpBB user already holds the name Alice's handle would get (phpBB compares username_clean).
        await database.ExecuteAsync($"""
            INSERT INTO {t.PhpbbUsers} (username, username_clean, user_permissions, user_sig) VALUES ('Alice.Example.COM', 'alice.example.com', '', '')
            """);
        using var frames = ForumFrameFactory.Create();
        // Alice's handle resolves back to her (DNS TXT); Bob's claimed handle resolves nowhere, so he is named from his
        // DID; Carol's document has no handle.
        await using var plc = await LoopbackPlc.StartAsync(frames.SigningKey.PublicKey);
        await using var dns = await AtSync.Testing.LoopbackDns.StartAsync();
        plc.Handles[Alice] = "alice.example.com";
        dns.Txt["_atproto.alice.example.com"] = [$"did={Alice}"];
        plc.Handles[Bob] = "bob.example.com";
        await using var relay = await LoopbackRelay.StartAsync(FirehoseStreams.SubscribeReposPath);
        var topic = frames.Post(1, Alice, "3ktopic00001", Topic("Names", "x"), T0);
        var root = new StrongRef(topic.Uri, topic.RecordCid!);
        relay.Publish([
            (1, topic.Frame),
            (2, frames.Post(2, Bob, "3kreply00001", Reply(root, "y"), T0.AddMinutes(1)).Frame),
            (3, frames.Post(3, Carol, "3kreply00002", Reply(root, "z"), T0.AddMinutes(2)).Frame),
        ]);
        await using var firehose = await FirehoseHarness.StartAsync(database, relay.Url, plcUrl: plc.BaseUri, dns: dns);
        await firehose.WaitForCursorAsync(FirehoseStreams.RepoService, 3);
        Assert.Equal("alice.example.com (2)", await database.ScalarAsync<string>($"SELECT topic_first_poster_name FROM {t.PhpbbTopics}"));

        // Alice moves to a new handle that resolves back to her: renamed, and so are the names phpBB keeps beside her id.
        plc.Handles[Alice] = "alice.new.example";
        dns.Txt["_atproto.alice.new.example"] = [$"did={Alice}"];
        relay.Publish([
            (4, ForumFrameFactory.Identity(4, Alice, "alice.new.example", T0.AddMinutes(3))),
            (5, ForumFrameFactory.Account(5, Bob, false, "deactivated", T0.AddMinutes(4))),
            (6, ForumFrameFactory.Account(6, Carol, false, "takendown", T0.AddMinutes(4))),
            (7, ForumFrameFactory.Account(7, Carol, true, null, T0.AddMinutes(5))),
            (8, ForumFrameFactory.Identity(8, "did:plc:strangerssssssssssssssss", "stranger.example", T0.AddMinutes(5))),
        ]);
        await firehose.WaitForCursorAsync(FirehoseStreams.RepoService, 8);

        var users = await RowsAsync(database, $"""
            SELECT au.did, au.handle, u.username, u.username_clean, u.user_type, u.user_inactive_reason, u.user_posts
            FROM {t.Users} au JOIN {t.PhpbbUsers} u ON u.user_id = au.user_id ORDER BY au.did
            """);
        Assert.Equal([Alice, Bob, Carol], users.Select(u => (string)u["did"]!));
        Assert.Equal("alice.new.example", users[0]["username"]);
        Assert.Equal("alice.new.example", users[0]["username_clean"]);
        Assert.Equal("alice.new.example", users[0]["handle"]);
        Assert.Equal("alice.new.example", await database.ScalarAsync<string>($"SELECT topic_first_poster_name FROM {t.PhpbbTopics}"));
        // Bob's claim is not shown anywhere: neither as his name nor as his stored handle.
        Assert.Equal("did-plc-bobbbbbbbbbbbbbbbbbbbbbb", users[1]["username"]);
        Assert.Equal("", users[1]["handle"]);
        Assert.Equal("did-plc-carolccccccccccccccccccc", users[2]["username"]);
        Assert.Equal("did-plc-carolccccccccccccccccccc", await database.ScalarAsync<string>($"SELECT topic_last_poster_name FROM {t.PhpbbTopics}"));
        Assert.Equal(0L, await database.ScalarAsync<long>($"SELECT COUNT(*) FROM {t.PhpbbUsers} WHERE username_clean LIKE 'bob.example.com%'"));
        // Bob deactivated: marked inactive (USER_INACTIVE, INACTIVE_MANUAL), his post kept. Carol reactivated.
        Assert.Equal(1L, users[1]["user_type"]);
        Assert.Equal(3L, users[1]["user_inactive_reason"]);
        Assert.Equal(1L, users[1]["user_posts"]);
        Assert.Equal(0L, users[2]["user_type"]);
        Assert.Equal(3L, await database.ScalarAsync<long>($"SELECT COUNT(*) FROM {t.PhpbbPosts} WHERE post_visibility = 1"));
        Assert.Equal("deactivated", await database.ScalarAsync<string>($"SELECT status FROM {t.Accounts} WHERE did = '{Bob}'"));
        Assert.Equal(1, FirehoseHarness.Sum(firehose.ForumOps, "action", "identity"));
        Assert.Equal(3, FirehoseHarness.Sum(firehose.ForumOps, "action", "account"));
        Assert.Equal(1, FirehoseHarness.Sum(firehose.Skipped, "reason", "unlinked_user"));
        // The stranger's #identity was not resolved: only the forum's own users are re-checked.
        Assert.DoesNotContain(plc.Requested, did => did == "did:plc:strangerssssssssssssssss");
    }

    [Fact]
    public async Task Labels_from_the_labeler_hide_and_unhide_mapped_posts_and_keep_their_own_cursor()
    {
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync();
        var forumId = await FirehoseHarness.PrepareForumAsync(database, BoardUri);
        using var frames = ForumFrameFactory.Create();
        await using var relay = await LoopbackRelay.StartAsync(FirehoseStreams.SubscribeReposPath);
        await using var labeler = await LoopbackRelay.StartAsync(FirehoseStreams.SubscribeLabelsPath);
        var topic = frames.Post(1, Alice, "3ktopic00001", Topic("Labelled", "x"), T0);
        var root = new StrongRef(topic.Uri, topic.RecordCid!);
        var reply = frames.Post(2, Bob, "3kreply00001", Reply(root, "spam"), T0.AddMinutes(1));
        relay.Publish([(1, topic.Frame), (2, reply.Frame)]);
        await using var firehose = await FirehoseHarness.StartAsync(database, relay.Url, labelerUrl: labeler.Url, signingKey: frames.SigningKey.PublicKey);
        await firehose.WaitForCursorAsync(FirehoseStreams.RepoService, 2);
        var t = database.Tables;

        var at = T0.AddMinutes(10);
        labeler.Publish([
            (100, ForumFrameFactory.Labels(100, FirehoseHarness.LabelerKey,
                new LabelRecord(FirehoseHarness.LabelerDid, reply.Uri, reply.RecordCid, "!hide", false, at, null),
                new LabelRecord(FirehoseHarness.LabelerDid, topic.Uri, null, "!warn", false, at, null),
                new LabelRecord("did:plc:someotherlabelerxxxxxxxx", topic.Uri, null, "!hide", false, at, null),
                new LabelRecord(FirehoseHarness.LabelerDid, "at://did:plc:nobody/net.vza.forum.post/3kx", null, "!hide", false, at, null))),
        ]);
        await firehose.WaitForCursorAsync(FirehoseStreams.LabelService, 100);

        Assert.Equal(2L, await database.ScalarAsync<long>($"SELECT post_visibility FROM {t.PhpbbPosts} p JOIN {t.Posts} ap ON ap.post_id = p.post_id WHERE ap.at_uri = '{reply.Uri}'"));
        Assert.Equal(1L, await database.ScalarAsync<long>($"SELECT post_visibility FROM {t.PhpbbPosts} p JOIN {t.Posts} ap ON ap.post_id = p.post_id WHERE ap.at_uri = '{topic.Uri}'"));
        Assert.Equal(1L, await database.ScalarAsync<long>($"SELECT topic_posts_approved FROM {t.PhpbbTopics}"));
        Assert.Equal(1L, await database.ScalarAsync<long>($"SELECT topic_posts_softdeleted FROM {t.PhpbbTopics}"));
        Assert.Equal(1L, await database.ScalarAsync<long>($"SELECT forum_posts_approved FROM {t.PhpbbForums} WHERE forum_id = {forumId}"));
        Assert.Equal(2L, await database.ScalarAsync<long>($"SELECT COUNT(*) FROM {t.Labels}"));
        Assert.Equal("!warn", await database.ScalarAsync<string>($"SELECT label_value FROM {t.Labels} WHERE subject_uri = '{topic.Uri}'"));
        Assert.Equal(1, FirehoseHarness.Sum(firehose.Skipped, "reason", "foreign_labeler"));
        Assert.Equal(1, FirehoseHarness.Sum(firehose.Skipped, "reason", "unmapped_subject"));
        Assert.Equal(1, FirehoseHarness.Sum(firehose.Labels, "outcome", "hidden"));
        Assert.Equal(1, FirehoseHarness.Sum(firehose.Labels, "outcome", "stored"));

        // The labeler negates the hide: the reply is visible again and the counters are back.
        labeler.Publish(101, ForumFrameFactory.Labels(101, FirehoseHarness.LabelerKey, new LabelRecord(FirehoseHarness.LabelerDid, reply.Uri, reply.RecordCid, "!hide", true, at.AddMinutes(1), null)));
        await firehose.WaitForCursorAsync(FirehoseStreams.LabelService, 101);
        Assert.Equal(1L, await database.ScalarAsync<long>($"SELECT post_visibility FROM {t.PhpbbPosts} p JOIN {t.Posts} ap ON ap.post_id = p.post_id WHERE ap.at_uri = '{reply.Uri}'"));
        Assert.Equal(2L, await database.ScalarAsync<long>($"SELECT topic_posts_approved FROM {t.PhpbbTopics}"));
        Assert.Equal(0L, await database.ScalarAsync<long>($"SELECT topic_posts_softdeleted FROM {t.PhpbbTopics}"));
        Assert.Equal(2L, await database.ScalarAsync<long>($"SELECT forum_posts_approved FROM {t.PhpbbForums} WHERE forum_id = {forumId}"));
        Assert.Equal(1, FirehoseHarness.Sum(firehose.Labels, "outcome", "unhidden"));
        Assert.Equal(2L, await firehose.CursorAsync(FirehoseStreams.RepoService));

        // A hide that expires: hidden at once, visible again once its expiry has passed.
        var expires = DateTimeOffset.UtcNow.AddSeconds(3);
        labeler.Publish(102, ForumFrameFactory.Labels(102, FirehoseHarness.LabelerKey, new LabelRecord(FirehoseHarness.LabelerDid, reply.Uri, reply.RecordCid, "!hide", false, at.AddMinutes(2), expires)));
        await firehose.WaitForCursorAsync(FirehoseStreams.LabelService, 102);
        Assert.Equal(2L, await database.ScalarAsync<long>($"SELECT post_visibility FROM {t.PhpbbPosts} p JOIN {t.Posts} ap ON ap.post_id = p.post_id WHERE ap.at_uri = '{reply.Uri}'"));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (await database.ScalarAsync<long>($"SELECT post_visibility FROM {t.PhpbbPosts} p JOIN {t.Posts} ap ON ap.post_id = p.post_id WHERE ap.at_uri = '{reply.Uri}'") != 1
               && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }
        Assert.True(DateTimeOffset.UtcNow >= expires);
        Assert.Equal(1L, await database.ScalarAsync<long>($"SELECT post_visibility FROM {t.PhpbbPosts} p JOIN {t.Posts} ap ON ap.post_id = p.post_id WHERE ap.at_uri = '{reply.Uri}'"));
        Assert.Equal(2L, await database.ScalarAsync<long>($"SELECT topic_posts_approved FROM {t.PhpbbTopics}"));
    }
}
