using AtSync.Core.Settings;
using AtSync.Tests.Infrastructure;
using MySqlConnector;

namespace AtSync.Tests.QueueWorker;

/// <summary>Several real worker processes on one queue; one is killed mid-run.</summary>
public sealed class QueueConcurrencyTests
{
    [Fact]
    public async Task Three_worker_processes_with_one_killed_mid_run_finish_every_row_exactly_once_without_duplicate_creates()
    {
        // The PDS runs on the real clock here; the processes do too.
        await using var h = await QueueHarness.CreateAsync();
        h.Pds.RecordCalls = false;
        var users = new List<LinkedUser>();
        for (var i = 0; i < 12; i++) users.Add(await h.LinkUserAsync());
        await h.ExecuteAsync($"UPDATE {h.Tables.Users} SET token_expires_at = NULL"); // fake-clock expiries mean nothing to real processes
        var posts = await h.SeedTopicsAsync(users, topics: 300, repliesPerTopic: 9);
        Assert.Equal(3000, posts.Count);
        Assert.Equal(3000L, await h.ScalarAsync<long>($"SELECT COUNT(*) FROM {h.Tables.Queue} WHERE status = 'pending'"));

        var settings = ServiceSettings.For(h.Database, h.KeysJson);
        // Long enough that the stuck worker still holds its rows when the others have synced 600, even on a loaded machine.
        settings["QueueWorker__LeaseDuration"] = "00:00:15";
        settings["QueueWorker__PollInterval"] = "00:00:00.100";
        settings["QueueWorker__BatchSize"] = "50";
        settings["QueueWorker__DependencyWait"] = "00:00:00.200";
        settings["QueueWorker__RequestTimeout"] = "00:01:00";
        settings[SettingNames.LogLevel] = "Warning";

        // The victim starts first and gets stuck on a write the PDS applied but never answers: it holds its batch.
        var stuck = h.Pds.HangNextWriteOf(users[0].Did);
        var workers = new List<ServiceProcess> { ServiceProcess.Start("AtSync.QueueWorker", settings) };
        try
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(150);
            await stuck.WaitAsync(TimeSpan.FromSeconds(60));
            workers.Add(ServiceProcess.Start("AtSync.QueueWorker", settings));
            workers.Add(ServiceProcess.Start("AtSync.QueueWorker", settings));
            while (await SyncedAsync(h) < 600)
            {
                Assert.True(DateTime.UtcNow < deadline, "the workers made no progress:\n" + workers[1].Output);
                Assert.All(workers, w => Assert.False(w.HasExited, w.Output));
                await Task.Delay(50);
            }
            Assert.True(await h.ScalarAsync<long>($"SELECT COUNT(*) FROM {h.Tables.Queue} WHERE status = 'processing'") > 0);
            workers[0].KillHard();
            var syncedAtKill = await SyncedAsync(h);
            Assert.True(syncedAtKill < 3000, "the run ended before the kill");

            while (await h.ScalarAsync<long>($"SELECT COUNT(*) FROM {h.Tables.Queue} WHERE status IN ('pending', 'processing')") > 0)
            {
                Assert.True(DateTime.UtcNow < deadline, $"the queue did not drain: {await SyncedAsync(h)} synced\n{workers[0].Output}");
                await Task.Delay(100);
            }

            // Every row ended exactly once: synced, nothing left, nothing dead-lettered.
            Assert.Equal(0L, await h.ScalarAsync<long>($"SELECT COUNT(*) FROM {h.Tables.Queue}"));
            Assert.Equal(3000L, await SyncedAsync(h));
            Assert.Equal(3000L, await h.ScalarAsync<long>($"SELECT COUNT(DISTINCT at_uri) FROM {h.Tables.Posts} WHERE sync_status = 'synced'"));

            // The PDS holds exactly those records, each created at most once, and none was created twice.
            var records = h.Pds.Records;
            Assert.Equal(3000, records.Count);
            Assert.Equal(0, h.Pds.DuplicateCreateAttempts);
            Assert.All(h.Pds.CreatesByUri.Values, n => Assert.Equal(1, n));
            // The killed worker's applied-but-unanswered create was finished by another worker as a put, not a second create.
            Assert.True(h.Pds.PutsOverExisting >= 1);
            await using var connection = await h.Database.OpenAsync();
            await using var command = new MySqlCommand($"SELECT at_uri, at_cid FROM {h.Tables.Posts}", connection);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                Assert.True(records.ContainsKey(reader.GetString(0)));
                Assert.Equal(h.Pds.CidOf(reader.GetString(0)), reader.GetString(1));
            }

            // The survivors shut down gracefully and quickly.
            foreach (var worker in new[] { workers[1], workers[2] })
            {
                var stopwatch = System.Diagnostics.Stopwatch.StartNew();
                worker.Terminate();
                Assert.True(await worker.WaitForExitAsync(TimeSpan.FromSeconds(30)), "did not stop within 30 s");
                Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(30));
                Assert.Equal(0, worker.ExitCode);
                Assert.DoesNotContain(worker.OutputLines, l => l.Contains("fail:", StringComparison.Ordinal) || l.Contains("crit:", StringComparison.Ordinal));
            }
        }
        finally
        {
            foreach (var worker in workers) await worker.DisposeAsync();
        }
    }

    private static Task<long> SyncedAsync(QueueHarness h) =>
        h.ScalarAsync<long>($"SELECT COUNT(*) FROM {h.Tables.Posts} WHERE sync_status = 'synced'");
}
