using AtSync.Core.Sync;
using AtSync.Firehose.Import;

namespace AtSync.Tests.Firehose.Import;

/// <summary>The Firehose's import worker repairs repositories marked desynchronized, with backoff, on its own.</summary>
public sealed class ImportWorkerTests
{
    private const string Carol = "did:plc:carolworkerccccccccccccc";

    [Fact]
    public async Task A_desynchronized_repository_is_repaired_by_the_worker_and_its_forum_equals_a_clean_import()
    {
        await using var h = await ImportHarness.StartAsync(worker: true, extra: new Dictionary<string, string?>
        {
            ["Import:RetryInitialDelay"] = "00:00:01",
            ["Import:RetryMaxDelay"] = "00:00:01",
        });
        using var repo = h.Repository(Carol);
        var roots = repo.Generate(topics: 25, repliesPerTopic: 3);
        await h.RequestAsync(Carol);
        var first = await h.WaitForAsync(Carol, r => r.Status == "active");
        Assert.Equal((repo.Rev, 100L), (first.Rev, first.RecordsImported));

        // The repository moves on while the live path loses step; the verifier marks it desynchronized.
        repo.Put(roots[0], repo.Edit(roots[0], "edited while out of step", "carol topic 0, edited"));
        var reply = await h.Database.ScalarAsync<string>($"SELECT MIN(at_uri) FROM {h.Database.Tables.Posts} WHERE is_topic_starter = 0");
        repo.Remove(reply[(reply.LastIndexOf('/') + 1)..]);
        var fresh = repo.NextRkey();
        repo.Put(fresh, repo.Topic("written while out of step", "new"));
        var good = repo.ExportCar();
        // First the PDS serves a truncated CAR: refused, nothing applied, retried after the backoff.
        h.Pds.Repos[Carol] = () => good[..(good.Length - 100)];
        var before = await ForumContent.TakeAsync(h.Database);
        await h.Database.ExecuteAsync($"""
            UPDATE {h.Database.Tables.Repos} SET status = 'desynchronized', requested_by = 'desync', reason = 'prev_data_mismatch', attempts = 9, retry_at = 0
            WHERE did = '{Carol}'
            """);
        // (attempts 9 were the live path's parked retries: the import's own budget starts afresh.)
        var refused = await h.WaitForAsync(Carol, r => r.Status == "desynchronized" && r.Attempts == 1);
        Assert.StartsWith(RepoStates.FailurePrefix + "car_", refused.Reason, StringComparison.Ordinal);
        Assert.Equal(before, await ForumContent.TakeAsync(h.Database));

        h.Pds.Repos[Carol] = () => good;
        var repaired = await h.WaitForAsync(Carol, r => r.Status == "active");
        Assert.Equal((repo.Rev, repo.Data.ToString(), 0, RepoStatusSql.ImportedReason), (repaired.Rev, repaired.DataCid, repaired.Attempts, repaired.Reason));
        Assert.Equal(3L, repaired.RecordsImported);
        Assert.Equal(2, FirehoseHarness.Sum(h.Imports, "outcome", ImportMetrics.Imported));
        Assert.True(FirehoseHarness.Sum(h.Imports, "outcome", ImportMetrics.Retry) >= 1);

        await using var clean = await ImportHarness.StartAsync();
        clean.Plc.Keys[Carol] = repo.Key.PublicKey;
        clean.Plc.Pds[Carol] = clean.Pds.BaseUri;
        clean.Pds.Repos[Carol] = () => good;
        var cleanImport = await clean.ImportAsync(Carol);
        Assert.True(cleanImport.Succeeded, cleanImport.Reason);
        Assert.Equal(await ForumContent.TakeAsync(clean.Database, visibleOnly: true), await ForumContent.TakeAsync(h.Database, visibleOnly: true));
    }
}
