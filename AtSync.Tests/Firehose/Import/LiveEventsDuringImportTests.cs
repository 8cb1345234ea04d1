using AtSync.Firehose;

namespace AtSync.Tests.Firehose.Import;

/// <summary>
/// Live commits of a repository being imported wait (held by the Firehose's repository gate) and are applied after
/// the import, in order, verified against the imported commit (<c>since</c> = its rev, <c>prevData</c> = its root).
/// </summary>
public sealed class LiveEventsDuringImportTests
{
    private const string Gina = "did:plc:ginalivegggggggggggggggg";

    [Fact]
    public async Task Live_commits_arriving_during_an_import_are_applied_after_it_in_order()
    {
        await using var h = await ImportHarness.StartAsync();
        using var repo = h.Repository(Gina);
        var roots = repo.Generate(topics: 100, repliesPerTopic: 9);
        var car = repo.ExportCar(); // what getRepo answers: the repository before the live commits
        h.Pds.Repos[Gina] = () => car;
        h.Pds.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        await h.RequestAsync(Gina);
        var import = Task.Run(() => h.RunClaimedAsync(Gina));
        await h.Pds.RepoRequested.Task.WaitAsync(TimeSpan.FromSeconds(60));

        // While getRepo is on its way, the repository moves on: an edit, a second edit of the same post, a new topic,
        // a reply to it, and a deleted reply. Each commit continues the previous one (since, prevData).
        var newRoot = repo.NextRkey();
        var newReply = repo.NextRkey();
        var frames = new List<byte[]>
        {
            repo.Commit(1, (roots[0], repo.Edit(roots[0], "edited once", "first edit"))),
            repo.Commit(2, (roots[0], repo.Edit(roots[0], "edited twice", "second edit"))),
            repo.Commit(3, (newRoot, repo.Topic("live topic", "written during the import"))),
        };
        frames.Add(repo.Commit(4, (newReply, repo.Reply(newRoot, "live reply"))));
        frames.Add(repo.Commit(5, (newReply, null)));
        h.Relay.Publish(frames.Select((f, i) => ((long)i + 1, f)));
        await h.Firehose.WaitForCursorAsync(FirehoseStreams.RepoService, 5);

        // Held, not applied: the stream moved on, phpBB has nothing of the repository yet.
        Assert.Equal([1L, 2, 3, 4, 5], await h.Firehose.HeldAsync(Gina));
        var t = h.Database.Tables;
        Assert.Equal(0L, await h.Database.ScalarAsync<long>($"SELECT COUNT(*) FROM {t.PhpbbPosts}"));

        h.Pds.Gate.SetResult();
        var result = await import.WaitAsync(TimeSpan.FromSeconds(120));
        Assert.True(result.Succeeded, result.Reason);
        Assert.Equal(1000, result.Plan!.Creates);
        await FirehoseHarness.WaitUntilAsync(async () => (await h.Firehose.HeldAsync(Gina)).Count == 0, "the held commits were released");

        Assert.Equal("second edit", await h.Database.ScalarAsync<string>($"""
            SELECT p.post_subject FROM {t.PhpbbPosts} p JOIN {t.Posts} ap ON ap.post_id = p.post_id WHERE ap.at_uri = '{repo.Uri(roots[0])}'
            """));
        Assert.Equal(2L, await h.Database.ScalarAsync<long>($"""
            SELECT p.post_edit_count FROM {t.PhpbbPosts} p JOIN {t.Posts} ap ON ap.post_id = p.post_id WHERE ap.at_uri = '{repo.Uri(roots[0])}'
            """));
        // The live topic: its first post, and the reply written and deleted after it (soft-deleted, as phpBB does).
        Assert.Equal("1 1", await h.Database.ScalarAsync<string>($"""
            SELECT CONCAT(tp.topic_posts_approved, ' ', tp.topic_posts_softdeleted) FROM {t.PhpbbTopics} tp
            JOIN {t.Posts} ap ON ap.post_id = tp.topic_first_post_id WHERE ap.at_uri = '{repo.Uri(newRoot)}'
            """));
        var row = (await h.RowAsync(Gina))!;
        Assert.Equal(("active", repo.Rev, repo.Data.ToString()), (row.Status, row.Rev, row.DataCid));
        Assert.Equal(0, FirehoseHarness.Sum(h.Firehose.CommitsRejected));
        Assert.Equal(5, FirehoseHarness.Sum(h.Firehose.CommitsReleased));

        // The same final repository, imported clean, shows the same forum.
        await using var clean = await ImportHarness.StartAsync();
        clean.Plc.Keys[Gina] = repo.Key.PublicKey;
        clean.Plc.Pds[Gina] = clean.Pds.BaseUri;
        clean.Pds.Repos[Gina] = repo.ExportCar;
        Assert.True((await clean.ImportAsync(Gina)).Succeeded);
        Assert.Equal(await ForumContent.TakeAsync(clean.Database, visibleOnly: true), await ForumContent.TakeAsync(h.Database, visibleOnly: true));
    }

    [Fact]
    public async Task Commits_the_stream_delivers_after_an_import_that_already_has_them_are_reflected_not_stale()
    {
        const string Hugo = "did:plc:hugolatehhhhhhhhhhhhhhhh";
        await using var h = await ImportHarness.StartAsync();
        using var repo = h.Repository(Hugo);
        var roots = repo.Generate(topics: 5, repliesPerTopic: 1);
        // Two commits the relay is slow to deliver: getRepo already answers with the repository after them.
        var frames = new List<byte[]>
        {
            repo.Commit(1, (roots[0], repo.Edit(roots[0], "edited once", "first edit"))),
            repo.Commit(2, (roots[1], repo.Edit(roots[1], "edited too", "other edit"))),
        };
        var car = repo.ExportCar();
        h.Pds.Repos[Hugo] = () => car;
        await h.RequestAsync(Hugo);
        var result = await h.RunClaimedAsync(Hugo);
        Assert.True(result.Succeeded, result.Reason);

        // Then the stream catches up: the two late commits (at or below the imported rev), then a new one after it.
        var next = repo.NextRkey();
        frames.Add(repo.Commit(3, (next, repo.Topic("after the import", "written after the snapshot"))));
        h.Relay.Publish(frames.Select((f, i) => ((long)i + 1, f)));
        await h.Firehose.WaitForCursorAsync(FirehoseStreams.RepoService, 3);

        var row = (await h.RowAsync(Hugo))!;
        Assert.Equal(("active", repo.Rev, ""), (row.Status, row.Rev, row.Reason));
        Assert.Equal(0, FirehoseHarness.Sum(h.Firehose.CommitsRejected));
        var t = h.Database.Tables;
        Assert.Equal("first edit", await h.Database.ScalarAsync<string>($"""
            SELECT p.post_subject FROM {t.PhpbbPosts} p JOIN {t.Posts} ap ON ap.post_id = p.post_id WHERE ap.at_uri = '{repo.Uri(roots[0])}'
            """));
        Assert.Equal(1L, await h.Database.ScalarAsync<long>($"SELECT COUNT(*) FROM {t.Posts} WHERE at_uri = '{repo.Uri(next)}'"));
    }
}
