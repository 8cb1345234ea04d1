using System.Text.Json;
using AtSync.Tests.Infrastructure;

namespace AtSync.Tests.QueueWorker.Boards;

/// <summary>
/// phpBB forums → the forum triggers (migration 500) and the reconcile → the queue → board records on the forum's PDS
/// with the forum account's session → <c>atproto_forums</c>, on MariaDB and the loopback PDS.
/// </summary>
public sealed class BoardPublishingTests
{
    private const string Board = "net.vza.forum.board";

    [Fact]
    public async Task A_new_forum_is_published_and_mapped_a_rename_puts_the_same_record_and_a_delete_removes_record_and_mapping()
    {
        await using var h = await BoardHarness.CreateAsync();
        var forumId = await h.AddForumAsync("Games &amp; Chat", description: "<t>All about [b]games[/b]</t>", leftId: 7);

        // The trigger enqueued the board, for the forum account's DID.
        var row = Assert.Single(await h.QueueRowsAsync());
        Assert.Equal(("create", forumId), (row.Operation, row.LocalId!.Value));
        Assert.Equal(ServiceSettings.ForumDid, await h.ScalarAsync<string>($"SELECT user_did FROM {h.Tables.Queue}"));

        Assert.Equal(1, (await h.RunBatchAsync()).Done);
        var mapping = await h.MappingAsync(forumId);
        Assert.NotNull(mapping);
        Assert.StartsWith($"at://{ServiceSettings.ForumDid}/{Board}/", mapping.AtUri, StringComparison.Ordinal);
        Assert.Equal(h.Pds.CidOf(mapping.AtUri), mapping.AtCid);
        Assert.Equal("games-chat", mapping.Slug);
        using (var record = JsonDocument.Parse(h.Pds.Records[mapping.AtUri]))
        {
            var r = record.RootElement;
            Assert.Equal(Board, r.GetProperty("$type").GetString());
            Assert.Equal("Games & Chat", r.GetProperty("name").GetString());
            Assert.Equal("games-chat", r.GetProperty("slug").GetString());
            Assert.Equal("All about [b]games[/b]", r.GetProperty("description").GetString());
            Assert.Equal("forum", r.GetProperty("boardType").GetString());
            Assert.Equal(7, r.GetProperty("order").GetInt32());
            Assert.Equal("open", r.GetProperty("status").GetString());
            Assert.False(r.TryGetProperty("parent", out _));
        }
        Assert.Equal(1, h.Pds.CreatesByUri[mapping.AtUri]);
        Assert.Empty(await h.QueueRowsAsync());

        // A rename (and a lock): the same record is replaced, the mapping gets its new CID and slug.
        await h.ExecuteAsync($"UPDATE {h.Tables.PhpbbForums} SET forum_name = 'Board games', forum_status = 1 WHERE forum_id = {forumId}");
        Assert.Equal("update", Assert.Single(await h.QueueRowsAsync()).Operation);
        Assert.Equal(1, (await h.RunBatchAsync()).Done);
        var renamed = await h.MappingAsync(forumId);
        Assert.Equal(mapping.AtUri, renamed!.AtUri);
        Assert.NotEqual(mapping.AtCid, renamed.AtCid);
        Assert.Equal(h.Pds.CidOf(mapping.AtUri), renamed.AtCid);
        Assert.Equal("board-games", renamed.Slug);
        using (var record = JsonDocument.Parse(h.Pds.Records[mapping.AtUri]))
        {
            Assert.Equal("Board games", record.RootElement.GetProperty("name").GetString());
            Assert.Equal("locked", record.RootElement.GetProperty("status").GetString());
        }
        Assert.Equal("com.atproto.repo.putRecord", h.Pds.Calls.Last(c => c.Did == ServiceSettings.ForumDid).Nsid);

        // A member's topic in that forum carries a strong ref to the board record as it is now.
        var member = await h.LinkUserAsync();
        var (_, post) = await h.PostTopicAsync(member.UserId, "Hello", "<t>first</t>", forumId: forumId);
        Assert.Equal(1, (await h.RunBatchAsync()).Done);
        using (var topic = JsonDocument.Parse(h.Pds.Records[(await h.AtprotoPostAsync(post))!.AtUri!]))
        {
            Assert.Equal(mapping.AtUri, topic.RootElement.GetProperty("forum").GetProperty("uri").GetString());
            Assert.Equal(renamed.AtCid, topic.RootElement.GetProperty("forum").GetProperty("cid").GetString());
        }

        // Deleting the forum deletes its record and its mapping.
        await h.ExecuteAsync($"DELETE FROM {h.Tables.PhpbbForums} WHERE forum_id = {forumId}");
        Assert.Equal("delete", Assert.Single(await h.QueueRowsAsync()).Operation);
        Assert.Equal(1, (await h.RunBatchAsync()).Done);
        Assert.Null(await h.MappingAsync(forumId));
        Assert.False(h.Pds.Records.ContainsKey(mapping.AtUri));
        Assert.Equal("com.atproto.repo.deleteRecord", h.Pds.Calls.Last(c => c.Did == ServiceSettings.ForumDid).Nsid);
        // The member's post (post_id may equal a forum id) was never touched by the board rows.
        Assert.Equal("synced", (await h.AtprotoPostAsync(post))!.SyncStatus);
    }

    [Fact]
    public async Task Posting_in_a_forum_changes_counters_only_and_enqueues_no_board_row_categories_and_links_are_not_published()
    {
        await using var h = await BoardHarness.CreateAsync();
        var category = await h.AddForumAsync("A category", type: 0);
        var link = await h.AddForumAsync("A link", type: 2);
        var forum = await h.AddForumAsync("Forum");
        Assert.Equal(1L, await h.BoardRowsAsync());
        await h.DrainAsync();

        // What phpBB updates on every post: counters and last-post columns.
        await h.ExecuteAsync($"""
            UPDATE {h.Tables.PhpbbForums} SET forum_posts_approved = forum_posts_approved + 1, forum_topics_approved = forum_topics_approved + 1,
                forum_last_post_id = 5, forum_last_post_subject = 'x', forum_last_post_time = 1700000000 WHERE forum_id IN ({category}, {link}, {forum})
            """);
        await h.ExecuteAsync($"UPDATE {h.Tables.PhpbbForums} SET forum_name = 'Renamed category' WHERE forum_id = {category}");
        Assert.Equal(0L, await h.BoardRowsAsync());
        Assert.Null(await h.MappingAsync(category));
        Assert.Null(await h.MappingAsync(link));
        Assert.NotNull(await h.MappingAsync(forum));

        // A forum turned into a category loses its record; turned back, it gets a new one.
        var uri = (await h.MappingAsync(forum))!.AtUri;
        await h.ExecuteAsync($"UPDATE {h.Tables.PhpbbForums} SET forum_type = 0 WHERE forum_id = {forum}");
        await h.DrainAsync();
        Assert.Null(await h.MappingAsync(forum));
        Assert.False(h.Pds.Records.ContainsKey(uri));
        await h.ExecuteAsync($"UPDATE {h.Tables.PhpbbForums} SET forum_type = 1 WHERE forum_id = {forum}");
        await h.DrainAsync();
        var again = await h.MappingAsync(forum);
        Assert.NotNull(again);
        Assert.NotEqual(uri, again.AtUri);
        Assert.True(h.Pds.Records.ContainsKey(again.AtUri));
    }

    [Fact]
    public async Task Existing_forums_are_published_by_the_reconcile_once_and_duplicate_rows_still_write_one_record()
    {
        // phpBB's forums exist before the forum account has a session: the triggers find no DID and enqueue nothing.
        await using var h = await QueueHarness.CreateAsync();
        var first = await h.AddForumAsync("First");
        var second = await h.AddForumAsync("Second");
        Assert.Equal(0L, await h.BoardRowsAsync());
        await h.ExecuteAsync($"DELETE FROM {h.Tables.Users}");
        h.Pds.AddAccount(ServiceSettings.ForumDid, BoardHarness.ForumHandle, ServiceSettings.ForumAppPassword);
        var signed = Assert.IsType<AtSync.QueueWorker.Sessions.ForumSignIn.Signed>(
            await h.Get<AtSync.QueueWorker.Sessions.ForumAccountLogin>().SignInAsync(CancellationToken.None));
        await h.Get<AtSync.QueueWorker.Sessions.ForumAccountStore>().SaveAsync(signed.Session, h.Pds.BaseUri, CancellationToken.None);

        // Forum 1 of the harness is a category mapped by hand (atsync boards map): left alone.
        Assert.Equal(new(2, 0), await h.ReconcileAsync());
        Assert.Equal(new(0, 0), await h.ReconcileAsync());
        // A rename of the first forum adds a second row for it (trigger): the first row creates, the second puts.
        await h.ExecuteAsync($"UPDATE {h.Tables.PhpbbForums} SET forum_name = 'First!' WHERE forum_id = {first}");
        Assert.Equal(3L, await h.BoardRowsAsync());
        await h.DrainAsync();
        Assert.Equal(0L, await h.BoardRowsAsync());
        var firstUri = (await h.MappingAsync(first))!.AtUri;
        Assert.NotNull(await h.MappingAsync(second));
        Assert.Equal(1, h.Pds.CreatesByUri[firstUri]);
        Assert.Equal(2, h.Pds.Records.Keys.Count(k => k.Contains(Board, StringComparison.Ordinal)));
        Assert.Contains("First!", h.Pds.Records[firstUri], StringComparison.Ordinal);
        Assert.Equal(new(0, 0), await h.ReconcileAsync());
        Assert.NotNull(await h.MappingAsync(1));

        // A mapping whose phpBB forum is gone (deleted while nothing ran) is reconciled away, record and all.
        await h.Database.ExecuteWithUserVariablesAsync($"SET @atsync_origin = 'test'; DELETE FROM {h.Tables.PhpbbForums} WHERE forum_id = {second}");
        Assert.Equal(0L, await h.BoardRowsAsync());
        Assert.Equal(new(0, 1), await h.ReconcileAsync());
        await h.DrainAsync();
        Assert.Null(await h.MappingAsync(second));
        Assert.Single(h.Pds.Records.Keys, k => k.Contains(Board, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_board_write_the_PDS_keeps_failing_is_retried_then_dead_lettered_without_touching_atproto_posts()
    {
        await using var h = await BoardHarness.CreateAsync();
        var forumId = await h.AddForumAsync("Flaky");
        for (var attempt = 1; attempt <= 5; attempt++)
        {
            // The first attempt creates, later ones put (the create may have landed): the fault takes whichever comes.
            h.Pds.InjectFault(new PdsFault.Error(500, "InternalServerError"));
            var result = await h.RunBatchAsync();
            Assert.Equal(1, result.Claimed);
            var state = Assert.Single(await h.QueueRowsAsync());
            Assert.Equal(attempt, state.Attempts);
            Assert.Equal(attempt < 5 ? "pending" : "dead_letter", state.Status);
            h.Time.Advance(TimeSpan.FromMinutes(20)); // past the retry delay, within the session's 2 h
            h.Pds.ClearFaults();
        }
        Assert.Null(await h.MappingAsync(forumId));
        Assert.Equal(["com.atproto.repo.createRecord", "com.atproto.repo.putRecord", "com.atproto.repo.putRecord", "com.atproto.repo.putRecord", "com.atproto.repo.putRecord"],
            h.Pds.Calls.Where(c => c.Status == 500).Select(c => c.Nsid));
        Assert.Equal(0L, await h.ScalarAsync<long>($"SELECT COUNT(*) FROM {h.Tables.Posts}"));
    }

    [Fact]
    public async Task An_expired_forum_session_is_refreshed_and_a_refused_refresh_token_signs_in_again_with_the_app_password()
    {
        await using var h = await BoardHarness.CreateAsync();
        var before = await h.StoredTokensAsync(0);
        Assert.StartsWith("v1:", before.Access, StringComparison.Ordinal);
        Assert.DoesNotContain(before.Access, h.Pds.IssuedTokens);

        // The access token expires: the next board write refreshes first (refreshSession), under the row lock.
        h.Time.Advance(TimeSpan.FromHours(3));
        var first = await h.AddForumAsync("After expiry");
        Assert.Equal(1, (await h.RunBatchAsync()).Done);
        Assert.Contains(h.Pds.Calls, c => c is { Nsid: "com.atproto.server.refreshSession", Status: 200 } && c.Did == ServiceSettings.ForumDid);
        var refreshed = await h.StoredTokensAsync(0);
        Assert.NotEqual(before.Refresh, refreshed.Refresh);
        Assert.NotNull(await h.MappingAsync(first));

        // The PDS revoked the session: the refresh is refused, the worker signs in again with the app password.
        h.Pds.RevokeRefreshTokens(ServiceSettings.ForumDid);
        h.Time.Advance(TimeSpan.FromHours(3));
        var second = await h.AddForumAsync("After revocation");
        Assert.Equal(1, (await h.RunBatchAsync()).Done);
        Assert.NotNull(await h.MappingAsync(second));
        Assert.Equal(2, h.Pds.Calls.Count(c => c is { Nsid: "com.atproto.server.createSession", Status: 200 }));
        Assert.Equal(0L, await h.BoardRowsAsync("dead_letter"));
        Assert.NotEqual(refreshed.Refresh, (await h.StoredTokensAsync(0)).Refresh);
        Assert.All(h.Pds.IssuedTokens.Append(ServiceSettings.ForumAppPassword),
            secret => Assert.DoesNotContain(h.Logs.Lines, line => line.Contains(secret, StringComparison.Ordinal)));
    }
}
