using AtSync.Core.Forum;
using AtSync.Firehose;
using AtSync.Testing;
using AtSync.Testing.Synthetic;
using AtSync.Tests.Infrastructure;
using static AtSync.Tests.Firehose.ForumStreamTests;

namespace AtSync.Tests.Firehose.Hostile;

/// <summary>
/// Moderating network posts in phpBB changes phpBB only (migration 202): a moderator editing, hiding, approving or
/// deleting a post the Firehose stored for a network author (a phpBB user without an AtSync session) queues nothing,
/// so nothing can dead-letter; the same changes to a linked member's post are still published.
/// </summary>
public sealed class NetworkPostModerationTests
{
    private const string Mallory = "did:plc:mallorymallorymallorymal";
    private const string Linked = "did:plc:linkedlinkedlinkedlinked";

    [Fact]
    public async Task Editing_hiding_approving_and_deleting_a_network_post_in_phpbb_queues_nothing()
    {
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync();
        var forumId = await FirehoseHarness.PrepareForumAsync(database, HostileFirehose.BoardUri);
        using var frames = ForumFrameFactory.Create();
        await using var relay = await LoopbackRelay.StartAsync(FirehoseStreams.SubscribeReposPath);
        var board = HostileFirehose.Board;
        var topic = frames.Post(1, Mallory, "3ktopic00001", new ForumPostRecord("network topic", "2026-07-04T14:59:00.000Z", board, "Hello", null, null, null), HostileFirehose.T0);
        var root = new StrongRef(topic.Uri, topic.RecordCid!);
        var reply = frames.Post(2, Mallory, "3kreply00001", new ForumPostRecord("network reply", "2026-07-04T15:00:00.000Z", board, null, root, root, null), HostileFirehose.T0.AddMinutes(1));
        var waiting = frames.Post(3, Mallory, "3kreply00002", new ForumPostRecord("waits", "2026-07-04T15:01:00.000Z", board, null, root, root, null), HostileFirehose.T0.AddMinutes(2));
        relay.Publish([(1, topic.Frame), (2, reply.Frame)]);
        await using var firehose = await FirehoseHarness.StartAsync(database, relay.Url, signingKey: frames.SigningKey.PublicKey);
        await firehose.WaitForCursorAsync(FirehoseStreams.RepoService, 2);
        await firehose.StopAsync();
        // A third post stored waiting for approval (the default policy for an unknown author).
        await using (var moderated = await FirehoseHarness.StartAsync(database, relay.Url, plcUrl: firehose.Plc!.BaseUri,
            extra: new Dictionary<string, string?> { [PostingOptions.ModerationSetting] = "unknown" }))
        {
            relay.Publish(3, waiting.Frame);
            await moderated.WaitForCursorAsync(FirehoseStreams.RepoService, 3);
        }

        var t = database.Tables;
        var ids = (await RowsAsync(database, $"SELECT post_id FROM {t.PhpbbPosts} ORDER BY post_id")).Select(r => Convert.ToInt64(r["post_id"])).ToList();
        Assert.Equal(3, ids.Count);
        Assert.Equal(0L, await database.ScalarAsync<long>($"SELECT post_visibility FROM {t.PhpbbPosts} WHERE post_id = {ids[2]}"));

        // A linked member (a session stored by the linking flow) posts on phpBB: the control that the outbox still works.
        await database.ExecuteAsync($"""
            INSERT INTO {t.PhpbbUsers} (user_id, username, username_clean, user_permissions, user_sig) VALUES (900, 'member', 'member', '', '');
            INSERT INTO {t.Users} (user_id, did, handle, access_token, refresh_token) VALUES (900, '{Linked}', '', 'sealed-access', 'sealed-refresh');
            INSERT INTO {t.PhpbbPosts} (post_id, topic_id, forum_id, poster_id, post_subject, post_text, post_visibility)
              SELECT 901, topic_id, {forumId}, 900, '', '<t>member reply</t>', 1 FROM {t.PhpbbPosts} WHERE post_id = {ids[0]};
            """);
        Assert.Equal(1L, await database.ScalarAsync<long>($"SELECT COUNT(*) FROM {t.Queue} WHERE local_id = 901 AND operation = 'create'"));

        // A moderator at work on the network posts, as phpBB writes (no AtSync session mark).
        await database.ExecuteAsync($"""
            UPDATE {t.PhpbbPosts} SET post_text = '<t>network topic [edited by a moderator]</t>', post_subject = 'Hello (moved)' WHERE post_id = {ids[0]};
            UPDATE {t.PhpbbPosts} SET post_visibility = 2 WHERE post_id = {ids[1]};
            UPDATE {t.PhpbbPosts} SET post_visibility = 1 WHERE post_id = {ids[2]};
            UPDATE {t.PhpbbPosts} SET post_visibility = 1 WHERE post_id = {ids[1]};
            DELETE FROM {t.PhpbbPosts} WHERE post_id = {ids[1]};
            """);
        Assert.Equal(0L, await database.ScalarAsync<long>($"SELECT COUNT(*) FROM {t.Queue} WHERE local_id IN ({string.Join(',', ids)})"));

        // The same moderation of the member's post is published.
        await database.ExecuteAsync($"""
            UPDATE {t.PhpbbPosts} SET post_text = '<t>member reply, edited</t>' WHERE post_id = 901;
            UPDATE {t.PhpbbPosts} SET post_visibility = 2 WHERE post_id = 901;
            """);
        Assert.Equal(["create", "update", "delete"], (await RowsAsync(database, $"SELECT operation FROM {t.Queue} ORDER BY id")).Select(r => (string)r["operation"]!));

        // A network author who later links through AtSync has a session: moderating their posts is published from then on.
        await database.ExecuteAsync($"UPDATE {t.Users} SET access_token = 'sealed-access', refresh_token = 'sealed-refresh' WHERE did = '{Mallory}'");
        await database.ExecuteAsync($"UPDATE {t.PhpbbPosts} SET post_text = '<t>edited after linking</t>' WHERE post_id = {ids[0]}");
        Assert.Equal(1L, await database.ScalarAsync<long>($"SELECT COUNT(*) FROM {t.Queue} WHERE local_id = {ids[0]} AND operation = 'update'"));
        Assert.Equal(0L, await database.ScalarAsync<long>($"SELECT COUNT(*) FROM {t.Queue} WHERE status = '{QueueStatus.DeadLetter.ToSql()}'"));
    }
    [Fact]
    public async Task An_edit_by_an_author_who_is_not_known_sends_an_approved_post_back_to_the_moderation_queue()
    {
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync();
        var forumId = await FirehoseHarness.PrepareForumAsync(database, HostileFirehose.BoardUri);
        using var frames = ForumFrameFactory.Create();
        await using var relay = await LoopbackRelay.StartAsync(FirehoseStreams.SubscribeReposPath);
        var board = HostileFirehose.Board;
        var topic = frames.Post(1, Mallory, "3ktopic00001", new ForumPostRecord("fine", "2026-07-04T14:59:00.000Z", board, "Hello", null, null, null), HostileFirehose.T0);
        var edit = frames.Post(2, Mallory, "3ktopic00001", new ForumPostRecord("now spam", "2026-07-04T14:59:00.000Z", board, "Hello", null, null, null),
            HostileFirehose.T0.AddMinutes(1), update: true);
        relay.Publish(1, topic.Frame);
        // Approved when posted (NETWORK_MODERATION=none, the harness's default) ...
        await using var approving = await FirehoseHarness.StartAsync(database, relay.Url, signingKey: frames.SigningKey.PublicKey);
        await approving.WaitForCursorAsync(FirehoseStreams.RepoService, 1);
        await approving.StopAsync();
        var t = database.Tables;
        Assert.Equal(1L, await database.ScalarAsync<long>($"SELECT post_visibility FROM {t.PhpbbPosts}"));

        // ... then edited while the policy moderates unknown authors: submit_post's ITEM_REAPPROVE, counted as unapproved.
        await using (var moderating = await FirehoseHarness.StartAsync(database, relay.Url, plcUrl: approving.Plc!.BaseUri,
            extra: new Dictionary<string, string?> { [PostingOptions.ModerationSetting] = "unknown" }))
        {
            relay.Publish(2, edit.Frame);
            await moderating.WaitForCursorAsync(FirehoseStreams.RepoService, 2);
            Assert.Equal(1, FirehoseHarness.Sum(moderating.ForumOps, "action", Outcomes.Unapproved));
        }
        var post = Assert.Single(await RowsAsync(database, $"SELECT post_visibility, post_text FROM {t.PhpbbPosts}"));
        Assert.Equal((3L, "<t>now spam</t>"), ((long)post["post_visibility"]!, (string)post["post_text"]!));
        var counters = Assert.Single(await RowsAsync(database, $"""
            SELECT tp.topic_visibility, tp.topic_posts_approved, tp.topic_posts_unapproved, f.forum_posts_approved, f.forum_posts_unapproved,
                   f.forum_topics_approved, f.forum_topics_unapproved, f.forum_last_post_id
            FROM {t.PhpbbTopics} tp JOIN {t.PhpbbForums} f ON f.forum_id = tp.forum_id WHERE f.forum_id = {forumId}
            """));
        Assert.Equal([0L, 0L, 1L, 0L, 1L, 0L, 1L, 0L], counters.Values.Select(v => Convert.ToInt64(v)));
        Assert.Equal(0L, await database.ScalarAsync<long>($"SELECT COUNT(*) FROM {t.Queue}"));
    }
}
