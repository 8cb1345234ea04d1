using AtSync.Core.Forum;
using AtSync.Core.Sync;
using AtSync.Firehose.Import;
using AtSync.Tests.Infrastructure;

namespace AtSync.Tests.Firehose.Import;

/// <summary>
/// Repository imports against real MariaDB and a loopback PDS serving <c>getRepo</c> CARs of generated repositories
/// (the project's own MST, DAG-CBOR and CAR writers, signed with the key the loopback PLC directory names).
/// </summary>
public sealed class RepositoryImportIntegrationTests
{
    private const string Alice = "did:plc:aliceimportaaaaaaaaaaaaa";
    private const string Bob = "did:plc:bobimportbbbbbbbbbbbbbbb";

    [Fact]
    public async Task A_repository_of_3000_forum_records_lands_in_phpbb_exactly_once_and_importing_again_changes_nothing()
    {
        await using var h = await ImportHarness.StartAsync();
        using var repo = h.Repository(Alice);
        var roots = repo.Generate(topics: 300, repliesPerTopic: 9);
        Assert.Equal(3000, repo.Count);

        var first = await h.ImportAsync(Alice);

        Assert.True(first.Succeeded, first.Reason);
        Assert.Equal(3000, first.Plan!.Creates);
        var t = h.Database.Tables;
        Assert.Equal(3000L, await h.Database.ScalarAsync<long>($"SELECT COUNT(*) FROM {t.PhpbbPosts}"));
        Assert.Equal(300L, await h.Database.ScalarAsync<long>($"SELECT COUNT(*) FROM {t.PhpbbTopics}"));
        Assert.Equal(3000L, await h.Database.ScalarAsync<long>($"SELECT COUNT(DISTINCT at_uri) FROM {t.Posts} WHERE author_did = '{Alice}' AND sync_status = 'synced'"));
        // Every topic has its first post and nine replies, in record order; one phpBB user for the author.
        Assert.Equal(0L, await h.Database.ScalarAsync<long>($"SELECT COUNT(*) FROM {t.PhpbbTopics} WHERE topic_posts_approved <> 10"));
        Assert.Equal(300L, await h.Database.ScalarAsync<long>($"""
            SELECT COUNT(*) FROM {t.PhpbbTopics} tp JOIN {t.Posts} ap ON ap.post_id = tp.topic_first_post_id
            WHERE ap.at_uri IN ({string.Join(",", roots.Select(r => $"'{repo.Uri(r)}'"))})
            """));
        Assert.Equal(1L, await h.Database.ScalarAsync<long>($"SELECT COUNT(*) FROM {t.Users} WHERE did = '{Alice}'"));
        Assert.Equal(3000L, await h.Database.ScalarAsync<long>($"SELECT forum_posts_approved FROM {t.PhpbbForums}"));
        Assert.Equal(0L, await h.Database.ScalarAsync<long>($"SELECT COUNT(*) FROM {t.ParkedPosts}"));
        var row = await h.RowAsync(Alice);
        Assert.Equal(new RepoRow("active", repo.Rev, repo.Data.ToString(), RepoStatusSql.ImportedReason, 0, 0, "operator", 3000), row);
        Assert.Equal(3000, FirehoseHarness.Sum(h.ImportRecords, "action", "create"));
        Assert.Equal(1, FirehoseHarness.Sum(h.Imports, "outcome", ImportMetrics.Imported));

        var before = await DatabaseSnapshot.TakeAsync(h.Database);
        var second = await h.ImportAsync(Alice);

        Assert.True(second.Succeeded, second.Reason);
        Assert.Empty(second.Plan!.Ops);
        Assert.Equal(3000, second.Plan.Unchanged);
        Assert.Equal(before, await DatabaseSnapshot.TakeAsync(h.Database));
        Assert.Equal("active", (await h.RowAsync(Alice))!.Status);
        Assert.Equal(2, h.Pds.GetRepoCount);
    }

    [Fact]
    public async Task Edits_deletes_and_new_records_relative_to_phpbb_are_applied_and_equal_a_clean_import()
    {
        await using var h = await ImportHarness.StartAsync();
        using var repo = h.Repository(Bob);
        var roots = repo.Generate(topics: 20, repliesPerTopic: 4);
        Assert.True((await h.ImportAsync(Bob)).Succeeded);

        // The repository moves on while AtSync is not following it: two edits, a deleted reply, a whole topic
        // deleted (its first post and its four replies), a new topic with a reply.
        var posts = await PostsByUriAsync(h);
        var edited = roots[3];
        repo.Put(edited, repo.Edit(edited, "new text of topic 3", "bob topic 3, edited"));
        var replyUris = posts.Keys.Where(u => !roots.Select(repo.Uri).Contains(u)).Order(StringComparer.Ordinal).ToList();
        var editedReply = replyUris[5][(replyUris[5].LastIndexOf('/') + 1)..];
        repo.Put(editedReply, repo.Edit(editedReply, "reply edited"));
        var deletedReply = replyUris[10][(replyUris[10].LastIndexOf('/') + 1)..];
        repo.Remove(deletedReply);
        var topic7 = await RepliesOfAsync(h, repo.Uri(roots[7]));
        Assert.Equal(4, topic7.Count);
        foreach (var reply in topic7) repo.Remove(reply[(reply.LastIndexOf('/') + 1)..]);
        repo.Remove(roots[7]);
        var newRoot = repo.NextRkey();
        repo.Put(newRoot, repo.Topic("brand new", "a topic written later"));
        var newReply = repo.NextRkey();
        repo.Put(newReply, repo.Reply(newRoot, "and its reply"));

        var result = await h.ImportAsync(Bob);

        Assert.True(result.Succeeded, result.Reason);
        Assert.Equal((2, 2, 6), (result.Plan!.Creates, result.Plan.Updates, result.Plan.Deletes));
        Assert.Equal(new[] { "edit", "edit" }.Length, result.Applied.Applied.GetValueOrDefault("edit"));
        var t = h.Database.Tables;
        Assert.Equal("bob topic 3, edited", await h.Database.ScalarAsync<string>($"""
            SELECT p.post_subject FROM {t.PhpbbPosts} p JOIN {t.Posts} ap ON ap.post_id = p.post_id WHERE ap.at_uri = '{repo.Uri(edited)}'
            """));
        Assert.Equal(1L, await h.Database.ScalarAsync<long>($"""
            SELECT p.post_edit_count FROM {t.PhpbbPosts} p JOIN {t.Posts} ap ON ap.post_id = p.post_id WHERE ap.at_uri = '{repo.Uri(editedReply)}'
            """));
        foreach (var gone in topic7.Append(repo.Uri(deletedReply)).Append(repo.Uri(roots[7])))
        {
            Assert.Equal(PhpbbConstants.ItemDeleted, await h.Database.ScalarAsync<int>($"""
                SELECT p.post_visibility FROM {t.PhpbbPosts} p JOIN {t.Posts} ap ON ap.post_id = p.post_id WHERE ap.at_uri = '{gone}'
                """));
        }
        Assert.Equal(2L, await h.Database.ScalarAsync<long>($"""
            SELECT tp.topic_posts_approved FROM {t.PhpbbTopics} tp JOIN {t.Posts} ap ON ap.post_id = tp.topic_first_post_id WHERE ap.at_uri = '{repo.Uri(newRoot)}'
            """));
        Assert.Equal(6, FirehoseHarness.Sum(h.ImportRecords, "action", "delete"));

        // The same final repository imported into a fresh forum shows exactly the same forum.
        await using var clean = await ImportHarness.StartAsync();
        clean.Plc.Keys[Bob] = repo.Key.PublicKey;
        clean.Plc.Pds[Bob] = clean.Pds.BaseUri;
        clean.Pds.Repos[Bob] = repo.ExportCar;
        Assert.True((await clean.ImportAsync(Bob)).Succeeded);
        // (A clean import never saw the two deleted posts; the repaired forum keeps them soft-deleted, as phpBB does.)
        Assert.Equal(await ForumContent.TakeAsync(clean.Database, visibleOnly: true), await ForumContent.TakeAsync(h.Database, visibleOnly: true));
    }

    [Fact]
    public async Task A_tampered_or_truncated_car_is_refused_with_nothing_applied_and_retried_with_backoff()
    {
        await using var h = await ImportHarness.StartAsync();
        using var repo = h.Repository(Alice);
        repo.Generate(topics: 30, repliesPerTopic: 3);
        var car = repo.ExportCar();
        var before = await DatabaseSnapshot.TakeAsync(h.Database);

        h.Pds.Repos[Alice] = () => car[..(car.Length * 2 / 3)];
        var truncated = await h.ImportAsync(Alice);
        Assert.False(truncated.Succeeded);
        Assert.StartsWith("car_", truncated.Reason, StringComparison.Ordinal);
        Assert.Equal(before, await DatabaseSnapshot.TakeAsync(h.Database));
        var row = (await h.RowAsync(Alice))!;
        Assert.Equal(("resync_requested", RepoStates.FailurePrefix + truncated.Reason, 1), (row.Status, row.Reason, row.Attempts));
        var delay = row.RetryAt - DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        Assert.InRange(delay, 40, 61); // Import__RetryInitialDelay (1 min) less up to 20 % jitter
        Assert.Empty(await h.States.ClaimAsync(1, DateTimeOffset.UtcNow.ToUnixTimeSeconds(), h.Options.Lease, CancellationToken.None));

        var tampered = (byte[])car.Clone();
        tampered[car.Length - 10] ^= 0x01; // inside the last record block
        h.Pds.Repos[Alice] = () => tampered;
        var result = await h.ImportAsync(Alice);
        Assert.Equal("car_block_hash_mismatch", result.Reason);
        Assert.Equal(before, await DatabaseSnapshot.TakeAsync(h.Database));
        Assert.Equal(0L, await h.Database.ScalarAsync<long>($"SELECT COUNT(*) FROM {h.Database.Tables.PhpbbPosts}"));
        Assert.Equal(2, FirehoseHarness.Sum(h.Imports, "outcome", ImportMetrics.Retry));

        // Served intact again, the next request imports it.
        h.Pds.Repos[Alice] = () => car;
        Assert.True((await h.ImportAsync(Alice)).Succeeded);
        Assert.Equal(120L, await h.Database.ScalarAsync<long>($"SELECT COUNT(*) FROM {h.Database.Tables.PhpbbPosts}"));
    }

    [Fact]
    public async Task Failures_count_attempts_and_the_repository_is_given_up_after_the_last_one()
    {
        await using var h = await ImportHarness.StartAsync(extra: new Dictionary<string, string?>
        {
            ["Import:MaxAttempts"] = "2",
            ["Import:RetryInitialDelay"] = "00:00:00.001",
            ["Import:RetryMaxDelay"] = "00:00:00.001",
        });
        h.Plc.Pds["did:plc:nobodyhoststhisrepoxxxxx"] = h.Pds.BaseUri; // the PDS answers RepoNotFound

        await h.RequestAsync("did:plc:nobodyhoststhisrepoxxxxx");
        Assert.Equal(ImportFailures.RepoNotFound, (await h.RunClaimedAsync("did:plc:nobodyhoststhisrepoxxxxx")).Reason);
        Assert.Equal(1, (await h.RowAsync("did:plc:nobodyhoststhisrepoxxxxx"))!.Attempts);
        await Task.Delay(1100);
        Assert.Equal(ImportFailures.RepoNotFound, (await h.RunClaimedAsync("did:plc:nobodyhoststhisrepoxxxxx")).Reason);

        var row = (await h.RowAsync("did:plc:nobodyhoststhisrepoxxxxx"))!;
        Assert.Equal(("resync_requested", RepoStates.GaveUpPrefix + ImportFailures.RepoNotFound, 2), (row.Status, row.Reason, row.Attempts));
        await Task.Delay(1100);
        Assert.Empty(await h.States.ClaimAsync(5, DateTimeOffset.UtcNow.ToUnixTimeSeconds(), h.Options.Lease, CancellationToken.None));
        Assert.Equal(1, FirehoseHarness.Sum(h.Imports, "outcome", ImportMetrics.GaveUp));

        // A new request starts a fresh budget.
        await h.RequestAsync("did:plc:nobodyhoststhisrepoxxxxx");
        Assert.Equal(0, (await h.RowAsync("did:plc:nobodyhoststhisrepoxxxxx"))!.Attempts);
    }

    [Fact]
    public async Task A_claimed_repository_is_not_claimed_again_until_its_lease_expires_and_a_stale_importer_cannot_finish_it()
    {
        await using var h = await ImportHarness.StartAsync();
        using var repo = h.Repository(Alice);
        repo.Generate(topics: 3, repliesPerTopic: 1);
        await h.RequestAsync(Alice);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var first = Assert.Single(await h.States.ClaimAsync(5, now, TimeSpan.FromSeconds(30), CancellationToken.None));
        Assert.Empty(await h.States.ClaimAsync(5, now + 10, TimeSpan.FromSeconds(30), CancellationToken.None));
        // The lease ran out: another process takes the repository over, and the first importer is fenced off.
        var second = Assert.Single(await h.States.ClaimAsync(5, now + 31, TimeSpan.FromSeconds(30), CancellationToken.None));
        Assert.Equal(first.Attempt + 1, second.Attempt);

        var stale = await h.Importer.RunAsync(first, null, CancellationToken.None);
        Assert.Equal(ImportFailures.LeaseLost, stale.Reason);
        Assert.Equal(0L, await h.Database.ScalarAsync<long>($"SELECT COUNT(*) FROM {h.Database.Tables.PhpbbPosts}"));
        Assert.True((await h.Importer.RunAsync(second, null, CancellationToken.None)).Succeeded);
        Assert.Equal(6L, await h.Database.ScalarAsync<long>($"SELECT COUNT(*) FROM {h.Database.Tables.PhpbbPosts}"));
    }

    private static async Task<List<string>> RepliesOfAsync(ImportHarness h, string rootUri)
    {
        var t = h.Database.Tables;
        var result = new List<string>();
        await using var connection = await h.Database.OpenAsync();
        await using var command = new MySqlConnector.MySqlCommand($"""
            SELECT ap.at_uri FROM {t.Posts} ap JOIN {t.PhpbbPosts} p ON p.post_id = ap.post_id
            WHERE ap.is_topic_starter = 0 AND p.topic_id = (SELECT p2.topic_id FROM {t.PhpbbPosts} p2 JOIN {t.Posts} r ON r.post_id = p2.post_id WHERE r.at_uri = @root)
            """, connection);
        command.Parameters.AddWithValue("@root", rootUri);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) result.Add(reader.GetString(0));
        return result;
    }

    private static async Task<Dictionary<string, uint>> PostsByUriAsync(ImportHarness h)
    {
        var result = new Dictionary<string, uint>(StringComparer.Ordinal);
        await using var connection = await h.Database.OpenAsync();
        await using var command = new MySqlConnector.MySqlCommand($"SELECT at_uri, post_id FROM {h.Database.Tables.Posts}", connection);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) result[reader.GetString(0)] = Convert.ToUInt32(reader.GetValue(1));
        return result;
    }
}
