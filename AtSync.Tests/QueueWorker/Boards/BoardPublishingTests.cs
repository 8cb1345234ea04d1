using System.Text.Json;
using AtSync.Tests.Infrastructure;
using AtSync.QueueWorker.Boards;

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
    public async Task Posting_in_a_forum_changes_counters_only_and_enqueues_no_board_row_and_a_type_change_rewrites_the_same_record()
    {
        await using var h = await BoardHarness.CreateAsync();
        var category = await h.AddForumAsync("A category", type: 0, leftId: 1);
        var link = await h.AddForumAsync("A link", type: 2, leftId: 3);
        var forum = await h.AddForumAsync("Forum", leftId: 5);
        Assert.Equal(3L, await h.BoardRowsAsync());
        await h.DrainAsync();
        Assert.Equal(0L, await h.BoardRowsAsync());

        // What phpBB updates on every post: counters and last-post columns.
        await h.ExecuteAsync($"""
            UPDATE {h.Tables.PhpbbForums} SET forum_posts_approved = forum_posts_approved + 1, forum_topics_approved = forum_topics_approved + 1,
                forum_last_post_id = 5, forum_last_post_subject = 'x', forum_last_post_time = 1700000000 WHERE forum_id IN ({category}, {link}, {forum})
            """);
        Assert.Equal(0L, await h.BoardRowsAsync());
        Assert.Equal("category", Field(h, (await h.MappingAsync(category))!.AtUri, "boardType"));
        Assert.Equal("link", Field(h, (await h.MappingAsync(link))!.AtUri, "boardType"));

        // A forum turned into a category keeps its record, rewritten as a category; turned back, a forum again.
        var uri = (await h.MappingAsync(forum))!.AtUri;
        await h.ExecuteAsync($"UPDATE {h.Tables.PhpbbForums} SET forum_type = 0 WHERE forum_id = {forum}");
        await h.DrainAsync();
        Assert.Equal(uri, (await h.MappingAsync(forum))!.AtUri);
        Assert.Equal("category", Field(h, uri, "boardType"));
        await h.ExecuteAsync($"UPDATE {h.Tables.PhpbbForums} SET forum_type = 1 WHERE forum_id = {forum}");
        await h.DrainAsync();
        Assert.Equal(uri, (await h.MappingAsync(forum))!.AtUri);
        Assert.Equal("forum", Field(h, uri, "boardType"));
        Assert.Equal(1, h.Pds.CreatesByUri[uri]);
    }

    [Fact]
    public async Task A_category_with_two_forums_is_published_parent_first_and_a_rename_of_the_category_rewrites_its_childrens_strong_refs()
    {
        await using var h = await BoardHarness.CreateAsync();
        var category = await h.AddForumAsync("Hobbies", type: 0, leftId: 1);
        var chess = await h.AddForumAsync("Chess", leftId: 2, parentId: category);
        var go = await h.AddForumAsync("Go", leftId: 4, parentId: category);
        Assert.Equal(3L, await h.BoardRowsAsync());

        // One batch: the category is written first, its forums in a second wave with its strong ref.
        Assert.Equal(3, (await h.RunBatchAsync()).Done);
        var parent = (await h.MappingAsync(category))!;
        Assert.Equal(h.Pds.CidOf(parent.AtUri), parent.AtCid);
        Assert.Null(parent.ParentCid);
        Assert.Null(ParentOf(h, parent.AtUri));
        var creates = h.Pds.Calls.Where(c => c.Nsid == "com.atproto.repo.createRecord" && c.Status == 200).Select(c => c.Rkey).ToList();
        Assert.Equal(RkeyOf(parent.AtUri), creates[0]);
        foreach (var child in new[] { chess, go })
        {
            var mapping = (await h.MappingAsync(child))!;
            Assert.Equal((parent.AtUri, parent.AtCid), ParentOf(h, mapping.AtUri));
            Assert.Equal(parent.AtCid, mapping.ParentCid);
            Assert.Contains(RkeyOf(mapping.AtUri), creates.Skip(1));
        }
        Assert.Equal(new(0, 0, 0), await h.ReconcileAsync());

        // A rename gives the category's record a new CID: its children are enqueued in the same step and rewritten.
        await h.ExecuteAsync($"UPDATE {h.Tables.PhpbbForums} SET forum_name = 'Board games' WHERE forum_id = {category}");
        Assert.Equal(1, (await h.RunBatchAsync()).Done);
        var renamed = (await h.MappingAsync(category))!;
        Assert.NotEqual(parent.AtCid, renamed.AtCid);
        Assert.Equal([chess, go], (await h.QueueRowsAsync()).Select(r => r.LocalId!.Value).Order());
        Assert.Equal(2, (await h.RunBatchAsync()).Done);
        foreach (var child in new[] { chess, go })
        {
            var mapping = (await h.MappingAsync(child))!;
            Assert.Equal((renamed.AtUri, renamed.AtCid), ParentOf(h, mapping.AtUri));
            Assert.Equal(renamed.AtCid, mapping.ParentCid);
            Assert.Equal(1, h.Pds.CreatesByUri[mapping.AtUri]);
        }
        Assert.Equal(0L, await h.BoardRowsAsync());

        // A child whose record still refers to an older CID (a write that raced the rename) is found by the reconcile.
        await h.ExecuteAsync($"UPDATE {h.Tables.Forums} SET parent_cid = '{parent.AtCid}' WHERE forum_id = {go}");
        Assert.Equal(new(0, 0, 1), await h.ReconcileAsync());
        await h.DrainAsync();
        Assert.Equal(renamed.AtCid, (await h.MappingAsync(go))!.ParentCid);
        Assert.Equal(new(0, 0, 0), await h.ReconcileAsync());
    }

    [Fact]
    public async Task A_forum_whose_parent_has_no_record_yet_waits_for_it_without_using_an_attempt()
    {
        await using var h = await BoardHarness.CreateAsync();
        var category = await h.AddForumAsync("Later category", type: 0, leftId: 1);
        var forum = await h.AddForumAsync("Child", leftId: 2, parentId: category);
        // The category's row is lost (e.g. made while nothing ran): the child waits, nothing is written.
        await h.ExecuteAsync($"DELETE FROM {h.Tables.Queue} WHERE local_id = {category}");
        var writes = h.Pds.Calls.Count;
        Assert.Equal(1, (await h.RunBatchAsync()).Deferred);
        var waiting = Assert.Single(await h.QueueRowsAsync());
        Assert.Equal(("pending", 0), (waiting.Status, waiting.Attempts));
        Assert.Contains("parent", waiting.LastError, StringComparison.Ordinal);
        Assert.Equal(writes, h.Pds.Calls.Count);
        Assert.Null(await h.MappingAsync(forum));

        // The reconcile enqueues the category; once it is written the child follows with its strong ref.
        Assert.Equal(new(1, 0, 0), await h.ReconcileAsync());
        h.Time.Advance(BoardPlanner.ParentWait);
        await h.DrainAsync();
        var parent = (await h.MappingAsync(category))!;
        Assert.Equal((parent.AtUri, parent.AtCid), ParentOf(h, (await h.MappingAsync(forum))!.AtUri));
    }

    [Fact]
    public async Task A_link_board_carries_its_link_url_and_one_that_is_not_an_http_uri_is_left_out()
    {
        await using var h = await BoardHarness.CreateAsync();
        var category = await h.AddForumAsync("Elsewhere", type: 0, leftId: 1);
        var link = await h.AddForumAsync("Our wiki", type: 2, leftId: 2, parentId: category, link: "https://wiki.example.org/start?lang=en&amp;v=2");
        var bad = await h.AddForumAsync("Odd link", type: 2, leftId: 4, parentId: category, link: "javascript:alert(1)");
        await h.DrainAsync();
        var uri = (await h.MappingAsync(link))!.AtUri;
        Assert.Equal("link", Field(h, uri, "boardType"));
        Assert.Equal("https://wiki.example.org/start?lang=en&v=2", Field(h, uri, "linkUrl"));
        Assert.Equal(RkeyOf((await h.MappingAsync(category))!.AtUri), RkeyOf(ParentOf(h, uri)!.Value.Uri));
        var badUri = (await h.MappingAsync(bad))!.AtUri;
        Assert.Equal("link", Field(h, badUri, "boardType"));
        Assert.Null(Field(h, badUri, "linkUrl"));

        // Editing the link puts the same record with the new URL.
        await h.ExecuteAsync($"UPDATE {h.Tables.PhpbbForums} SET forum_link = 'http://wiki.example.org/' WHERE forum_id = {link}");
        await h.DrainAsync();
        Assert.Equal("http://wiki.example.org/", Field(h, uri, "linkUrl"));
    }

    private static string? Field(QueueHarness h, string uri, string field)
    {
        using var record = JsonDocument.Parse(h.Pds.Records[uri]);
        return record.RootElement.TryGetProperty(field, out var value) ? value.GetString() : null;
    }

    private static (string Uri, string Cid)? ParentOf(QueueHarness h, string uri)
    {
        using var record = JsonDocument.Parse(h.Pds.Records[uri]);
        return record.RootElement.TryGetProperty("parent", out var parent)
            ? (parent.GetProperty("uri").GetString()!, parent.GetProperty("cid").GetString()!)
            : null;
    }

    private static string RkeyOf(string uri) => uri[(uri.LastIndexOf('/') + 1)..];

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

        // Forum 1 of the harness is mapped by hand (atsync boards map): left alone.
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
