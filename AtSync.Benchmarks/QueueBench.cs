using System.Diagnostics;
using AtSync.Core.Settings;
using AtSync.Core.Storage;
using AtSync.Core.Tokens;
using AtSync.QueueWorker;
using AtSync.Tests.Infrastructure;
using AtSync.Tests.QueueWorker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MySqlConnector;

namespace AtSync.Benchmarks;

/// <summary>
/// <c>bench-queue [rows] [workers…]</c>: queue throughput into a loopback PDS (Kestrel) with a dedicated MariaDB.
/// For each worker count, a fresh database gets <c>rows</c> posts enqueued by the outbox triggers (topics of ten
/// posts by 50 linked users); that many worker loops (each its own QueueProcessor, as replicas would be) drain it.
/// Prints rows/s (first claim to empty queue) and claim-to-done latency per row (p50/p99: a row is done when its
/// batch's outcomes commit).
/// </summary>
internal static class QueueBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var rows = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 4000;
        var counts = args.Length > 2 ? args.Skip(2).Select(a => int.Parse(a, System.Globalization.CultureInfo.InvariantCulture)).ToArray() : [1, 2, 4];
        Console.WriteLine($"bench-queue: {rows} rows per run, workers {string.Join(", ", counts)}; {Environment.ProcessorCount} cores (shared machine: compare ratios within one run)");
        await using var server = await MariaDbServer.StartDedicatedAsync();
        await using var pds = await LoopbackPds.StartAsync();
        pds.RecordCalls = false;

        foreach (var workers in counts)
        {
            await RunOnceAsync(server, pds, rows, workers);
        }
        return 0;
    }

    private static async Task RunOnceAsync(MariaDbServer server, LoopbackPds pds, int rows, int workers)
    {
        await using var database = await server.CreateDatabaseAsync();
        var keys = ServiceSettings.NewTokenKeysJson();
        var config = ServiceSettings.For(database, keys);
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(config.Select(c => KeyValuePair.Create(c.Key.Replace("__", ":", StringComparison.Ordinal), c.Value)));
        builder.Logging.AddConsole().SetMinimumLevel(LogLevel.Warning);
        builder.AddAtSyncDatabase();
        builder.AddForumSettings();
        builder.AddQueueWorker();
        await using var services = builder.Services.BuildServiceProvider();
        await services.GetRequiredService<SchemaMigrator>().MigrateAsync(SchemaMigrations.All, CancellationToken.None);
        var tables = services.GetRequiredService<AtSyncTables>();
        var cipher = services.GetRequiredService<TokenCipher>();

        await using (var connection = new MySqlConnection(database.ConnectionString))
        {
            await connection.OpenAsync();
            await Exec(connection, $"INSERT INTO {tables.PhpbbForums} (forum_id, forum_name, forum_parents, forum_desc, forum_rules, forum_type) VALUES (1, 'General', '', '', '', 1)");
            await Exec(connection, $"INSERT INTO {tables.Forums} (forum_id, at_uri, at_cid, slug) VALUES (1, 'at://{ServiceSettings.ForumDid}/net.vza.forum.board/3kboardaaaaa2', 'bafyreiboard', 'general')");
            var userIds = new List<long>();
            for (var u = 0; u < 50; u++)
            {
                var userId = 1000 + u;
                var did = $"did:plc:bench{u:D4}aaaaaaaaaaaaaaaaaa";
                var (access, refresh, _) = pds.CreateSession(did, TimeSpan.FromHours(6));
                await Exec(connection, $"INSERT INTO {tables.PhpbbUsers} (user_id, username, username_clean, user_permissions, user_sig) VALUES ({userId}, 'b{userId}', 'b{userId}', '', '')");
                await using var link = new MySqlCommand($"INSERT INTO {tables.Users} (user_id, did, pds_url, access_token, refresh_token) VALUES (@id, @did, @pds, @a, @r)", connection);
                link.Parameters.AddWithValue("@id", userId);
                link.Parameters.AddWithValue("@did", did);
                link.Parameters.AddWithValue("@pds", pds.BaseUri.ToString());
                link.Parameters.AddWithValue("@a", cipher.Encrypt(access));
                link.Parameters.AddWithValue("@r", cipher.Encrypt(refresh));
                await link.ExecuteNonQueryAsync();
                userIds.Add(userId);
            }
            var topics = (rows + 9) / 10;
            for (var start = 0; start < topics; start += 100)
            {
                var topicRows = new List<string>();
                var postRows = new List<string>();
                for (var t = start; t < Math.Min(topics, start + 100); t++)
                {
                    var first = (long)t * 10 + 1;
                    topicRows.Add($"({t + 1}, 1, 'Topic {t + 1}', {userIds[t % 50]}, 1700000000, 1, {first}, {first + 9})");
                    for (var p = 0; p < 10; p++)
                    {
                        var poster = p == 0 ? userIds[t % 50] : userIds[(t + p) % 50];
                        postRows.Add($"({first + p}, {t + 1}, 1, {poster}, 1700000000, 'Topic {t + 1}', '<r><B><s>[b]</s>post<e>[/b]</e></B> {first + p}</r>', 1)");
                    }
                }
                await Exec(connection, $"INSERT INTO {tables.PhpbbTopics} (topic_id, forum_id, topic_title, topic_poster, topic_time, topic_visibility, topic_first_post_id, topic_last_post_id) VALUES {string.Join(',', topicRows)}");
                await Exec(connection, $"INSERT INTO {tables.PhpbbPosts} (post_id, topic_id, forum_id, poster_id, post_time, post_subject, post_text, post_visibility) VALUES {string.Join(',', postRows)}");
            }
        }
        var queued = await Scalar(database.ConnectionString, $"SELECT COUNT(*) FROM {tables.Queue} WHERE status = 'pending'");

        var batches = new System.Collections.Concurrent.ConcurrentBag<(double Ms, int Rows)>();
        var time = services.GetRequiredService<TimeProvider>();
        var store = services.GetRequiredService<AtSync.QueueWorker.Queue.QueueStore>();
        var processors = Enumerable.Range(0, workers).Select(_ => ActivatorUtilities.CreateInstance<QueueProcessor>(services)).ToList();
        var wall = Stopwatch.StartNew();
        await Task.WhenAll(processors.Select(processor => Task.Run(async () =>
        {
            while (true)
            {
                var started = time.GetTimestamp();
                var result = await processor.ProcessBatchAsync(CancellationToken.None);
                if (result.Claimed > 0)
                {
                    batches.Add((time.GetElapsedTime(started).TotalMilliseconds, result.Claimed));
                    continue;
                }
                if (await Scalar(database.ConnectionString, $"SELECT COUNT(*) FROM {tables.Queue} WHERE status IN ('pending', 'processing')") == 0) return;
                await store.RecoverExpiredLeasesAsync(time.GetUtcNow(), CancellationToken.None);
                await Task.Delay(20);
            }
        })));
        wall.Stop();

        var synced = await Scalar(database.ConnectionString, $"SELECT COUNT(*) FROM {tables.Posts} WHERE sync_status = 'synced'");
        var perRow = batches.SelectMany(b => Enumerable.Repeat(b.Ms, b.Rows)).Order().ToArray();
        double Percentile(double p) => perRow.Length == 0 ? 0 : perRow[Math.Min(perRow.Length - 1, (int)Math.Ceiling(p * perRow.Length) - 1)];
        Console.WriteLine(
            $"workers {workers}: {synced}/{queued} rows synced in {wall.Elapsed.TotalSeconds:N2} s = {synced / wall.Elapsed.TotalSeconds,8:N0} rows/s   " +
            $"claim-to-done p50 {Percentile(0.50),6:N0} ms  p99 {Percentile(0.99),6:N0} ms   ({batches.Count} batches)");
    }

    private static async Task Exec(MySqlConnection connection, string sql)
    {
        await using var command = new MySqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<long> Scalar(string connectionString, string sql)
    {
        await using var connection = new MySqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new MySqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }
}
