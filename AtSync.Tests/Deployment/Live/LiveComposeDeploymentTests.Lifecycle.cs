using System.Diagnostics;
using System.Globalization;
using System.Text;
using AtSync.Core.Storage;
using AtSync.Firehose;
using AtSync.Tests.Firehose;
using AtSync.Tests.Infrastructure;
using AtSync.Tests.QueueWorker;
using MySqlConnector;

namespace AtSync.Tests.Deployment.Live;

public sealed partial class LiveComposeDeploymentTests
{
    /// <summary>
    /// <c>docker compose down</c> (timed), then <c>up</c> again on the same named volumes: topics, posts, users, cursors and queue rows (dead
    /// letters, which stay) must all still be there, and the rows equal to what was there before.
    /// </summary>
    private async Task DownAndUpAsync(ComposeDeployment deployment, MariaDbServer server, long lastSeq, AtSyncTables tables, LoopbackPds pds)
    {
        var db = deployment.RootConnectionString;
        // Queue rows that stay: posts the PDS rejects as invalid are dead-lettered at once (kept for 30 days).
        using (var cipher = new AtSync.Core.Tokens.TokenCipher(new Dictionary<string, byte[]> { ["v1"] = deployment.TokenKey }, "v1"))
        {
            var user = await LinkUserAsync(db, tables, pds.BaseUri, pds, cipher, 7100);
            pds.InjectFault(new PdsFault.Error(400, "InvalidRecord", "rejected by the test"), "com.atproto.repo.createRecord", count: 3);
            for (var i = 0; i < 3; i++) await InsertTopicsAsync(db, tables, [user], QueueTopics + i, 1);
        }
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (await DeploymentDatabase.CountAsync(db, $"SELECT COUNT(*) FROM {tables.Queue} WHERE status = 'dead_letter'") < 3 * (QueueRepliesPerTopic + 1)
               && DateTime.UtcNow < deadline)
        {
            // Replies wait for their topic's first post; with the first post dead-lettered they dead-letter too (or stay queued).
            if (await DeploymentDatabase.CountAsync(db, $"SELECT COUNT(*) FROM {tables.Queue} WHERE status = 'dead_letter'") >= 3
                && await DeploymentDatabase.CountAsync(db, $"SELECT COUNT(*) FROM {tables.Queue} WHERE status = 'processing'") == 0) break;
            await Task.Delay(250);
        }
        var counts = await CountsAsync(db, tables);
        var queueRows = await QueueRowsAsync(db, tables);
        var snapshot = await DatabaseSnapshot.TakeAsync(DeploymentDatabase.AsTestDatabase(server, db));
        _figures.AtLeast("queue rows at `down` (dead letters)", counts["queue rows"], 3);

        var down = Stopwatch.StartNew();
        (await deployment.ComposeAsync(["down"], TimeSpan.FromMinutes(2))).EnsureSuccess();
        _figures.Seconds("`docker compose down` (idle)", down.Elapsed.TotalSeconds, 30);

        var up = Stopwatch.StartNew();
        (await deployment.ComposeAsync(["up", "--detach", "--pull", "never"], TimeSpan.FromMinutes(3))).EnsureSuccess();
        await deployment.WaitForHealthAsync(ComposeDeployment.Services, "healthy", TimeSpan.FromMinutes(3));
        _figures.Seconds("`up -d` on the kept volumes → all healthy", up.Elapsed.TotalSeconds, 120);
        var after = await CountsAsync(db, tables);
        foreach (var (what, value) in counts)
        {
            _figures.Count($"after down/up: {what}", after[what], value);
        }
        var queueAfter = await QueueRowsAsync(db, tables);
        _figures.Count("after down/up: queue rows changed or gone", queueRows.Except(queueAfter).Count(), 0);
        var cursor = await DeploymentDatabase.CursorAsync(db, tables, FirehoseStreams.RepoService);
        _figures.Count("after down/up: stored Firehose cursor", cursor ?? -1, lastSeq);
        var snapshotAfter = await DatabaseSnapshot.TakeAsync(DeploymentDatabase.AsTestDatabase(server, db));
        _figures.Check("after down/up: phpBB and AtSync rows unchanged", snapshotAfter == snapshot ? "equal" : "differ", "equal", snapshotAfter == snapshot);
    }

    private static async Task<Dictionary<string, long>> CountsAsync(string db, AtSyncTables tables)
    {
        var counts = new Dictionary<string, long>();
        foreach (var (what, table) in new[]
                 {
                     ("topics", tables.PhpbbTopics), ("posts", tables.PhpbbPosts), ("users", tables.PhpbbUsers), ("linked users", tables.Users),
                     ("AtSync posts", tables.Posts), ("cursors", tables.Cursors), ("queue rows", tables.Queue),
                 })
        {
            counts[what] = await DeploymentDatabase.CountAsync(db, $"SELECT COUNT(*) FROM {table}");
        }
        return counts;
    }

    private static async Task<List<string>> QueueRowsAsync(string db, AtSyncTables tables)
    {
        var rows = new List<string>();
        await using var connection = await DeploymentDatabase.OpenAsync(db);
        await using var command = new MySqlCommand($"SELECT id, operation, status, local_id FROM {tables.Queue} WHERE status = 'dead_letter' ORDER BY id", connection);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) rows.Add($"{reader.GetValue(0)} {reader.GetValue(1)} {reader.GetValue(2)} {reader.GetValue(3)}");
        return rows;
    }

    /// <summary>No .env secret in any container's log (<c>docker compose logs</c>) or in any health body.</summary>
    private async Task CheckSecretsAsync(ComposeDeployment deployment)
    {
        var text = new StringBuilder(await deployment.LogsAsync());
        var bodies = new StringBuilder();
        foreach (var service in new[] { "firehose", "queueworker", "linking" })
        {
            foreach (var path in new[] { "/health", "/alive" }) bodies.AppendLine(await HealthBodyAsync(deployment.HealthPort(service), path));
        }
        bodies.AppendLine(await HealthBodyAsync(deployment.HealthPort("forum"), "/healthz.php"));
        Log("health bodies:\n" + bodies);
        var secrets = deployment.Secrets.Select(s => (s.Key, s.Value)).Append(("token key (base64)", Convert.ToBase64String(deployment.TokenKey))).ToList();
        var inLogs = secrets.Where(s => text.ToString().Contains(s.Item2, StringComparison.Ordinal)).Select(s => s.Item1).ToList();
        var inBodies = secrets.Where(s => bodies.ToString().Contains(s.Item2, StringComparison.Ordinal)).Select(s => s.Item1).ToList();
        _figures.Check($"{(deployment.SecretFilesInUse ? "secret files" : ".env secrets")} ({secrets.Count}) found in container logs ({text.Length / 1024} KiB)", inLogs.Count == 0 ? "0" : string.Join(", ", inLogs), "= 0", inLogs.Count == 0);
        _figures.Check(".env secrets found in health bodies (/health, /alive, /healthz.php)", inBodies.Count == 0 ? "0" : string.Join(", ", inBodies), "= 0", inBodies.Count == 0);
        _figures.Check("health bodies answered", bodies.ToString().Contains("no answer", StringComparison.Ordinal) ? "not all" : "all", "all",
            !bodies.ToString().Contains("no answer", StringComparison.Ordinal));
    }
}
