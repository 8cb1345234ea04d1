using AtSync.Core.Settings;
using AtSync.Tests.Infrastructure;
using AtSync.Tests.QueueWorker;

namespace AtSync.Tests.OAuth;

/// <summary>
/// Access tokens expiring again and again during a burst of writes shared by three real QueueWorker processes:
/// every expiry is refreshed exactly once (a second refresh of one generation would spend a used refresh token,
/// which the server refuses and answers by revoking the session), and no write is lost.
/// </summary>
public sealed class OAuthRefreshBurstTests
{
    [Fact]
    public async Task Token_expiry_during_a_burst_across_three_workers_refreshes_once_per_expiry_and_loses_no_write()
    {
        await using var client = await OAuthClientHost.StartAsync();
        await using var h = await QueueHarness.CreateAsync(client.Settings);
        await using var network = await LoopbackAtNetwork.StartAsync(); // real clock, like the processes
        var lifetime = TimeSpan.FromSeconds(4);
        var refreshAhead = TimeSpan.FromSeconds(1);
        network.Auth.AccessLifetime = lifetime;
        var users = new[]
        {
            await client.LinkAsync(h.Database, h.Cipher, network, 801, "burst-one.forum-test.net"),
            await client.LinkAsync(h.Database, h.Cipher, network, 802, "burst-two.forum-test.net"),
        };

        var settings = ServiceSettings.For(h.Database, h.KeysJson);
        foreach (var (k, v) in client.Settings) settings[k] = v;
        settings["QueueWorker__RefreshAhead"] = "00:00:01";
        settings["QueueWorker__PollInterval"] = "00:00:00.050";
        settings["QueueWorker__BatchSize"] = "4";
        settings["QueueWorker__RequestTimeout"] = "00:00:20";
        settings[SettingNames.LogLevel] = "Information";
        var workers = Enumerable.Range(0, 3).Select(_ => ServiceProcess.Start("AtSync.QueueWorker", settings)).ToList();
        try
        {
            foreach (var worker in workers) await worker.WaitForHealthyAsync(TimeSpan.FromSeconds(60));
            const int posts = 90;
            var started = DateTimeOffset.UtcNow;
            for (var i = 0; i < posts; i++)
            {
                await h.PostTopicAsync(users[i % 2].UserId, $"Burst {i}", $"<t>burst post {i}</t>");
                await Task.Delay(150);
            }
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
            while (await h.ScalarAsync<long>($"SELECT COUNT(*) FROM {h.Tables.Queue}") > 0)
            {
                Assert.True(DateTime.UtcNow < deadline, "the queue did not drain:\n" + string.Join('\n', (await h.QueueRowsAsync()).Select(r => r.ToString()))
                    + "\n" + workers[0].Output);
                Assert.All(workers, w => Assert.False(w.HasExited, w.Output));
                await Task.Delay(100);
            }
            var duration = DateTimeOffset.UtcNow - started;

            // No write lost: every post is on the PDS, synced, nothing dead-lettered.
            Assert.Equal(posts, network.Records.Count);
            Assert.Equal((long)posts, await h.ScalarAsync<long>($"SELECT COUNT(*) FROM {h.Tables.Posts} WHERE sync_status = 'synced'"));
            Assert.All(network.Writes, w => Assert.Equal(users.Single(u => u.Did == w.Did).Key.Thumbprint, w.Jkt));

            // No refresh token was spent twice, no session was revoked, every refresh was accepted.
            Assert.Equal(0, network.Auth.ReusedRefreshTokens);
            Assert.Equal(0, network.Auth.RevokedSessions);
            var refreshes = network.Auth.Refreshes;
            Assert.All(refreshes, r => Assert.True(r.Accepted, r.Outcome));
            foreach (var perSession in refreshes.GroupBy(r => r.SessionId))
            {
                var ordered = perSession.OrderBy(r => r.At).ToList();
                // The burst outlived several tokens, so each session was refreshed more than once…
                Assert.True(ordered.Count >= 2, $"only {ordered.Count} refresh(es) in {duration}");
                // …and each refresh replaced a token that was expiring (never a second refresh of a fresh one).
                Assert.All(ordered, r => Assert.True(r.At >= r.ReplacedExpiry!.Value - refreshAhead - TimeSpan.FromSeconds(1),
                    $"refreshed at {r.At:O}, the token ran until {r.ReplacedExpiry:O}"));
                Assert.True(ordered.Count <= (int)Math.Ceiling(duration / (lifetime - refreshAhead - TimeSpan.FromSeconds(1))) + 1,
                    $"{ordered.Count} refreshes in {duration}");
            }
            Assert.Equal(2, refreshes.Select(r => r.SessionId).Distinct().Count());

            // No token or key in any worker's output.
            foreach (var user in users)
            {
                var stored = await h.StoredTokensAsync(user.UserId);
                var secrets = new[] { user.Access, user.Refresh, h.Cipher.Decrypt(stored.Access), h.Cipher.Decrypt(stored.Refresh), user.Key.ExportPrivateKey() };
                Assert.All(workers, w => Assert.All(secrets, secret => Assert.DoesNotContain(secret, w.Output, StringComparison.Ordinal)));
            }
            Assert.Contains(workers, w => w.Output.Contains("Refreshed the PDS session of", StringComparison.Ordinal));
        }
        finally
        {
            foreach (var worker in workers) await worker.DisposeAsync();
        }
    }
}
