using System.Text.Json;
using AtSync.Core.Storage;
using MySqlConnector;

namespace AtSync.Tests.QueueWorker;

/// <summary>phpBB post changes → outbox triggers → queue → the user's PDS → atproto_posts, on MariaDB and a loopback PDS.</summary>
public sealed class QueueEndToEndTests
{
    [Fact]
    public async Task A_topic_and_a_reply_by_a_linked_user_are_published_with_refs_and_recorded_as_synced()
    {
        await using var h = await QueueHarness.CreateAsync();
        var user = await h.LinkUserAsync();
        var (topicId, firstPost) = await h.PostTopicAsync(user.UserId, "Hello &amp; welcome",
            "<r><B><s>[b]</s>Bold<e>[/b]</e></B> start<br/>\nline &lt;2&gt;</r>", topicType: 1, postTime: 1_700_000_000);
        var reply = await h.PostReplyAsync(topicId, user.UserId, "<t>plain reply</t>");

        var queued = await h.QueueRowsAsync();
        Assert.Equal(["create", "create"], queued.Select(r => r.Operation));
        Assert.Equal([firstPost, reply], queued.Select(r => r.LocalId!.Value));
        Assert.All(queued, r => Assert.Equal("pending", r.Status));

        var result = await h.RunBatchAsync();
        Assert.Equal(2, result.Claimed);
        Assert.Equal(2, result.Done);
        Assert.Empty(await h.QueueRowsAsync());

        var topicState = await h.AtprotoPostAsync(firstPost);
        var replyState = await h.AtprotoPostAsync(reply);
        Assert.NotNull(topicState);
        Assert.NotNull(replyState);
        Assert.Equal("synced", topicState.SyncStatus);
        Assert.Equal("synced", replyState.SyncStatus);
        Assert.True(topicState.IsTopicStarter);
        Assert.False(replyState.IsTopicStarter);
        Assert.Equal(user.Did, topicState.AuthorDid);
        Assert.StartsWith($"at://{user.Did}/net.vza.forum.post/", topicState.AtUri, StringComparison.Ordinal);
        Assert.Equal(h.Pds.CidOf(topicState.AtUri!), topicState.AtCid);
        Assert.Equal(h.Pds.CidOf(replyState.AtUri!), replyState.AtCid);

        using var topicRecord = JsonDocument.Parse(h.Pds.Records[topicState.AtUri!]);
        var t = topicRecord.RootElement;
        Assert.Equal("net.vza.forum.post", t.GetProperty("$type").GetString());
        Assert.Equal("[b]Bold[/b] start\nline <2>", t.GetProperty("text").GetString());
        Assert.Equal("Hello & welcome", t.GetProperty("subject").GetString());
        Assert.Equal("sticky", t.GetProperty("topicType").GetString());
        Assert.Equal("2023-11-14T22:13:20.000Z", t.GetProperty("createdAt").GetString());
        Assert.Equal(QueueHarness.ForumBoardUri, t.GetProperty("forum").GetProperty("uri").GetString());
        Assert.Equal(QueueHarness.ForumBoardCid, t.GetProperty("forum").GetProperty("cid").GetString());
        Assert.False(t.TryGetProperty("reply", out _));

        using var replyRecord = JsonDocument.Parse(h.Pds.Records[replyState.AtUri!]);
        var r = replyRecord.RootElement;
        Assert.Equal("plain reply", r.GetProperty("text").GetString());
        Assert.False(r.TryGetProperty("subject", out _));
        Assert.False(r.TryGetProperty("topicType", out _));
        Assert.Equal(topicState.AtUri, r.GetProperty("reply").GetProperty("root").GetProperty("uri").GetString());
        Assert.Equal(topicState.AtCid, r.GetProperty("reply").GetProperty("root").GetProperty("cid").GetString());
        Assert.Equal(topicState.AtUri, r.GetProperty("reply").GetProperty("parent").GetProperty("uri").GetString());

        Assert.Equal(2, h.Pds.CreatesByUri.Count);
        Assert.All(h.Pds.CreatesByUri.Values, n => Assert.Equal(1, n));
        Assert.Equal(0, h.Pds.DuplicateCreateAttempts);
    }

    [Fact]
    public async Task Edit_then_delete_update_and_remove_the_same_record_in_order()
    {
        await using var h = await QueueHarness.CreateAsync();
        var user = await h.LinkUserAsync();
        var (_, post) = await h.PostTopicAsync(user.UserId, "Subject", "<t>first text</t>");
        // Edit and delete are queued before the create was processed: order per post must hold.
        await h.ExecuteAsync($"UPDATE {h.Tables.PhpbbPosts} SET post_text = '<t>edited text</t>' WHERE post_id = {post}");
        Assert.Equal(["create", "update"], (await h.QueueRowsAsync()).Select(r => r.Operation));

        var first = await h.RunBatchAsync();
        Assert.Equal(1, first.Claimed); // the update waits for its create
        var uri = (await h.AtprotoPostAsync(post))!.AtUri!;
        // Records are built from the phpBB row when processed, so the create already carries the current text.
        Assert.Contains("edited text", h.Pds.Records[uri], StringComparison.Ordinal);
        Assert.Equal(["update"], (await h.QueueRowsAsync()).Select(r => r.Operation));

        await h.ExecuteAsync($"UPDATE {h.Tables.PhpbbPosts} SET post_text = '<t>second edit</t>' WHERE post_id = {post}");
        // Two updates of one post: one per batch, in queue order.
        Assert.Equal(1, (await h.RunBatchAsync()).Done);
        Assert.Equal(1, (await h.RunBatchAsync()).Done);
        Assert.Contains("second edit", h.Pds.Records[uri], StringComparison.Ordinal);
        var state = await h.AtprotoPostAsync(post);
        Assert.Equal(uri, state!.AtUri);
        Assert.Equal(h.Pds.CidOf(uri), state.AtCid);
        Assert.Equal(["com.atproto.repo.createRecord", "com.atproto.repo.putRecord", "com.atproto.repo.putRecord"], h.Pds.Calls.Select(c => c.Nsid));

        await h.ExecuteAsync($"DELETE FROM {h.Tables.PhpbbPosts} WHERE post_id = {post}");
        Assert.Equal(["delete"], (await h.QueueRowsAsync()).Select(r => r.Operation));
        await h.DrainAsync();
        Assert.False(h.Pds.Records.ContainsKey(uri));
        Assert.Null(await h.AtprotoPostAsync(post));
        Assert.Empty(await h.QueueRowsAsync());
    }

    [Fact]
    public async Task Posts_of_unlinked_users_and_rows_the_firehose_writes_are_not_enqueued()
    {
        await using var h = await QueueHarness.CreateAsync();
        var plain = await h.PlainUserAsync();
        var linked = await h.LinkUserAsync();
        await h.PostTopicAsync(plain, "Unlinked", "<t>not for the network</t>");

        // The Firehose marks its session; its inserts and edits of a linked user's posts must not echo back out.
        // As the Firehose connects: without AllowUserVariables.
        var firehoseConnectionString = new MySqlConnectionStringBuilder(h.Database.ConnectionString) { AllowUserVariables = false }.ConnectionString;
        await using (var connection = new MySqlConnection(firehoseConnectionString))
        {
            await connection.OpenAsync();
            await OutboxOrigin.MarkSessionAsync(connection, OutboxOrigin.Firehose, CancellationToken.None);
            await using var insert = new MySqlCommand($"""
                INSERT INTO {h.Tables.PhpbbPosts} (topic_id, forum_id, poster_id, post_time, post_subject, post_text, post_visibility)
                VALUES (1, 1, {linked.UserId}, 1, 'from the network', '<t>x</t>', 1)
                """, connection);
            await insert.ExecuteNonQueryAsync();
            await using var update = new MySqlCommand($"UPDATE {h.Tables.PhpbbPosts} SET post_text = '<t>y</t>' WHERE poster_id = {linked.UserId}", connection);
            Assert.Equal(1, await update.ExecuteNonQueryAsync());
            await OutboxOrigin.ClearSessionAsync(connection, CancellationToken.None);
            // Unmarked again: the same session's next change is enqueued.
            await using var edit = new MySqlCommand($"UPDATE {h.Tables.PhpbbPosts} SET post_text = '<t>z</t>' WHERE poster_id = {linked.UserId}", connection);
            await edit.ExecuteNonQueryAsync();
        }
        var rows = await h.QueueRowsAsync();
        Assert.Equal(["update"], rows.Select(r => r.Operation));
        Assert.Equal(linked.Did, await h.ScalarAsync<string>($"SELECT user_did FROM {h.Tables.Queue}"));
    }

    [Fact]
    public async Task Hiding_and_approving_a_post_deletes_and_recreates_it()
    {
        await using var h = await QueueHarness.CreateAsync();
        var user = await h.LinkUserAsync();
        var (_, post) = await h.PostTopicAsync(user.UserId, "Moderated", "<t>text</t>");
        await h.DrainAsync();
        var uri = (await h.AtprotoPostAsync(post))!.AtUri!;

        await h.ExecuteAsync($"UPDATE {h.Tables.PhpbbPosts} SET post_visibility = 2 WHERE post_id = {post}"); // soft-deleted
        await h.DrainAsync();
        Assert.False(h.Pds.Records.ContainsKey(uri));
        Assert.Null(await h.AtprotoPostAsync(post));

        await h.ExecuteAsync($"UPDATE {h.Tables.PhpbbPosts} SET post_visibility = 1 WHERE post_id = {post}"); // restored
        await h.DrainAsync();
        var again = await h.AtprotoPostAsync(post);
        Assert.Equal("synced", again!.SyncStatus);
        Assert.NotEqual(uri, again.AtUri);
        Assert.True(h.Pds.Records.ContainsKey(again.AtUri!));
    }

    [Fact]
    public async Task A_reply_waits_for_its_topic_when_the_topic_is_still_queued_elsewhere()
    {
        await using var h = await QueueHarness.CreateAsync(new() { ["QueueWorker:BatchSize"] = "1" });
        var user = await h.LinkUserAsync();
        var (topicId, first) = await h.PostTopicAsync(user.UserId, "T", "<t>root</t>");
        var reply = await h.PostReplyAsync(topicId, user.UserId, "<t>reply</t>");
        // Put the reply ahead of its topic in the queue.
        await h.ExecuteAsync($"UPDATE {h.Tables.Queue} SET next_retry_at = 1 WHERE local_id = {first}");

        var result = await h.RunBatchAsync(); // claims the reply only
        Assert.Equal(1, result.Deferred);
        var replyRow = (await h.QueueRowsAsync()).Single(r => r.LocalId == reply);
        Assert.Equal("pending", replyRow.Status);
        Assert.Equal(0, replyRow.Attempts); // waiting uses no attempt
        Assert.Empty(h.Pds.Records);

        h.Time.Advance(TimeSpan.FromSeconds(5));
        await h.DrainAsync();
        var root = await h.AtprotoPostAsync(first);
        using var doc = JsonDocument.Parse(h.Pds.Records[(await h.AtprotoPostAsync(reply))!.AtUri!]);
        Assert.Equal(root!.AtUri, doc.RootElement.GetProperty("reply").GetProperty("root").GetProperty("uri").GetString());
    }
}
