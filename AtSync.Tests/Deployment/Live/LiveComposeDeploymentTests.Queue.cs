using System.Diagnostics;
using System.Globalization;
using AtSync.Core.Storage;
using AtSync.Core.Tokens;
using AtSync.Tests.QueueWorker;
using MySqlConnector;

namespace AtSync.Tests.Deployment.Live;

public sealed partial class LiveComposeDeploymentTests
{
    private const int QueueTopics = 300;
    private const int QueueRepliesPerTopic = 2;
    private const long QueueTopicIdBase = 900_000;
    private const long QueuePostIdBase = 9_000_000;

    /// <summary>
    /// phpBB-shaped posts by linked users arrive in the forum (the outbox triggers queue them) while the QueueWorker
    /// writes them to the loopback PDS; its process is SIGKILLed mid-way. After Docker restarts it (and the killed
    /// worker's leases expire), every post must be on the PDS exactly once and no create may have been sent twice.
    /// </summary>
    private async Task QueueWorkerCrashAsync(ComposeDeployment deployment, LoopbackPds pds, AtSyncTables tables)
    {
        var db = deployment.RootConnectionString;
        await DeploymentDatabase.ExecuteAsync(db,
            $"INSERT INTO {tables.PhpbbForums} (forum_id, forum_name, forum_parents, forum_desc, forum_rules, forum_type) VALUES ({QueueForumId}, 'Queue board', '', '', '', 1)");
        await DeploymentDatabase.MapForumAsync(db, tables, QueueForumId, QueueHarness.ForumBoardUri, QueueHarness.ForumBoardCid, "queue");
        using var cipher = new TokenCipher(new Dictionary<string, byte[]> { ["v1"] = deployment.TokenKey }, "v1");
        var users = new List<long>();
        for (var i = 0; i < 12; i++) users.Add(await LinkUserAsync(db, tables, pds.BaseUri, pds, cipher, 7001 + i));

        var before = await deployment.StateAsync("queueworker");
        var total = QueueTopics * (QueueRepliesPerTopic + 1);
        var producer = Task.Run(async () =>
        {
            for (var start = 0; start < QueueTopics; start += 15)
            {
                await InsertTopicsAsync(db, tables, users, start, Math.Min(15, QueueTopics - start));
                await Task.Delay(250);
            }
        });
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        while (pds.Records.Count < total / 6 && DateTime.UtcNow < deadline && !producer.IsFaulted) await Task.Delay(20);
        if (producer.IsFaulted) await producer;
        var onPdsAtKill = pds.Records.Count;
        _figures.Check("QueueWorker SIGKILLed during writes: posts on the PDS at the kill", onPdsAtKill.ToString(CultureInfo.InvariantCulture), $"> 0 and < {total}",
            onPdsAtKill > 0 && onPdsAtKill < total);
        var killed = Stopwatch.StartNew();
        await KillMainProcessAsync(deployment, "queueworker");
        Log($"QueueWorker killed with {onPdsAtKill} of {total} posts on the PDS");
        var restarted = await WaitForRestartAsync(deployment, "queueworker", before, TimeSpan.FromSeconds(60));
        _figures.Seconds("QueueWorker SIGKILL → running again (restart policy)", killed.Elapsed.TotalSeconds, 30);
        _figures.Count("QueueWorker restarts by Docker's restart policy", restarted.RestartCount - before.RestartCount, 1);
        await producer;

        var range = $"post_id > {QueuePostIdBase} AND post_id <= {QueuePostIdBase + total}";
        deadline = DateTime.UtcNow + TimeSpan.FromSeconds(180);
        long synced = 0, queued = 0;
        while (DateTime.UtcNow < deadline)
        {
            synced = await DeploymentDatabase.CountAsync(db, $"SELECT COUNT(*) FROM {tables.Posts} WHERE {range} AND at_uri IS NOT NULL AND sync_status = 'synced'");
            queued = await DeploymentDatabase.CountAsync(db, $"SELECT COUNT(*) FROM {tables.Queue} WHERE local_id > {QueuePostIdBase}");
            if (synced == total && queued == 0) break;
            await Task.Delay(250);
        }
        _figures.Seconds("QueueWorker kill → every queued post written", killed.Elapsed.TotalSeconds, 120);
        _figures.Count("queued posts synced (atproto_posts.at_uri set)", synced, total);
        _figures.Count("queue rows left for them", queued, 0);
        var uris = new List<string>();
        await using (var connection = await DeploymentDatabase.OpenAsync(db))
        await using (var command = new MySqlCommand($"SELECT at_uri FROM {tables.Posts} WHERE {range} AND at_uri IS NOT NULL", connection))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync()) uris.Add(reader.GetString(0));
        }
        var records = pds.Records;
        var creates = pds.CreatesByUri;
        _figures.Count("records on the PDS", records.Count, total);
        _figures.Count("synced posts whose record is on the PDS", uris.Distinct(StringComparer.Ordinal).Count(records.ContainsKey), total);
        _figures.Count("records created more than once", creates.Count(c => c.Value > 1), 0);
        _figures.Count("createRecord refused as a duplicate by the PDS", pds.DuplicateCreateAttempts, 0);
        _figures.Info("creates retried as idempotent puts over an existing record", pds.PutsOverExisting.ToString(CultureInfo.InvariantCulture));
        await deployment.WaitForHealthAsync(["queueworker"], "healthy", TimeSpan.FromSeconds(90));
    }

    /// <summary>A phpBB user linked to an AT account on the loopback PDS (tokens sealed with the deployment's key).</summary>
    private static async Task<long> LinkUserAsync(string db, AtSyncTables tables, Uri pdsUrl, LoopbackPds pds, TokenCipher cipher, long userId)
    {
        var did = $"did:plc:user{userId:D4}aaaaaaaaaaaaaaaaaaa";
        var (access, refresh, expires) = pds.CreateSession(did);
        await DeploymentDatabase.ExecuteAsync(db,
            $"INSERT INTO {tables.PhpbbUsers} (user_id, username, username_clean, user_permissions, user_sig) VALUES ({userId}, 'u{userId}', 'u{userId}', '', '')");
        await DeploymentDatabase.ExecuteAsync(db, $"""
            INSERT INTO {tables.Users} (user_id, did, handle, pds_url, access_token, refresh_token, token_expires_at, created_at, updated_at)
            VALUES (@id, @did, @handle, @pds, @access, @refresh, @expires, 0, 0)
            """,
            ("@id", userId), ("@did", did), ("@handle", $"u{userId}.test"), ("@pds", pdsUrl.ToString()),
            ("@access", cipher.Encrypt(access)), ("@refresh", cipher.Encrypt(refresh)), ("@expires", expires.ToUnixTimeSeconds()));
        return userId;
    }

    /// <summary>Topics with their first post and replies, as phpBB's submit_post leaves them (the triggers queue each post).</summary>
    private static async Task InsertTopicsAsync(string db, AtSyncTables tables, IReadOnlyList<long> users, int first, int count)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var perTopic = QueueRepliesPerTopic + 1;
        var topicRows = new List<string>();
        var postRows = new List<string>();
        for (var t = first; t < first + count; t++)
        {
            var topicId = QueueTopicIdBase + t + 1;
            var firstPost = QueuePostIdBase + (long)t * perTopic + 1;
            var author = users[t % users.Count];
            topicRows.Add($"({topicId}, {QueueForumId}, 'Queued topic {topicId}', {author}, {now}, 0, 1, {firstPost}, {firstPost + QueueRepliesPerTopic})");
            for (var p = 0; p < perTopic; p++)
            {
                var poster = p == 0 ? author : users[(t + p) % users.Count];
                postRows.Add($"({firstPost + p}, {topicId}, {QueueForumId}, {poster}, {now}, 'Queued topic {topicId}', '<t>post {firstPost + p} of topic {topicId}</t>', 1)");
            }
        }
        await DeploymentDatabase.ExecuteAsync(db,
            $"INSERT INTO {tables.PhpbbTopics} (topic_id, forum_id, topic_title, topic_poster, topic_time, topic_type, topic_visibility, topic_first_post_id, topic_last_post_id) VALUES {string.Join(',', topicRows)}");
        await DeploymentDatabase.ExecuteAsync(db,
            $"INSERT INTO {tables.PhpbbPosts} (post_id, topic_id, forum_id, poster_id, post_time, post_subject, post_text, post_visibility) VALUES {string.Join(',', postRows)}");
    }
}
