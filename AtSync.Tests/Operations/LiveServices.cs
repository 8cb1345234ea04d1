using AtSync.Core.Settings;
using AtSync.Firehose;
using AtSync.Testing;
using AtSync.Testing.Synthetic;
using AtSync.Tests.Firehose;
using AtSync.Tests.Infrastructure;
using AtSync.Tests.QueueWorker;

namespace AtSync.Tests.Operations;

/// <summary>
/// Both services as real processes on one MariaDB database, working: the Firehose reads a loopback relay (a synthetic
/// stream with forum posts, signatures checked against a loopback PLC), the QueueWorker publishes phpBB posts of
/// linked users to a loopback PDS, one of whose writes is refused (a dead letter and a failure reason) and one of whose
/// users needs a token refresh. Used by the scrape tests and the CLI tests.
/// </summary>
public sealed class LiveServices : IAsyncDisposable
{
    private readonly List<IAsyncDisposable> _owned = [];

    private LiveServices(QueueHarness queue) => Queue = queue;

    public QueueHarness Queue { get; }
    public ServiceProcess Firehose { get; private set; } = null!;
    public ServiceProcess Worker { get; private set; } = null!;
    public LoopbackRelay Relay { get; private set; } = null!;
    public long LastSeq { get; private set; }
    public IReadOnlyList<LinkedUser> Users { get; private set; } = [];
    public Dictionary<string, string?> Settings { get; private set; } = null!;

    public static async Task<LiveServices> StartAsync(int frames = 400)
    {
        var queue = await QueueHarness.CreateAsync();
        var live = new LiveServices(queue);
        try
        {
            await live.StartServicesAsync(frames);
            return live;
        }
        catch
        {
            await live.DisposeAsync();
            throw;
        }
    }

    private async Task StartServicesAsync(int frameCount)
    {
        var factory = ForumFrameFactory.Create();
        var frames = SyntheticStream.Generate(factory, new SyntheticStreamOptions
        {
            Frames = frameCount, ForumShare = 0.3, BoardUri = QueueHarness.ForumBoardUri, Authors = 20, Seed = 5, Start = DateTimeOffset.UtcNow.AddMinutes(-2),
        }).ToList();
        LastSeq = frames[^1].Seq;
        var plc = await LoopbackPlc.StartAsync(factory.SigningKey.PublicKey);
        _owned.Add(plc);
        Relay = await LoopbackRelay.StartAsync(FirehoseStreams.SubscribeReposPath);
        _owned.Add(Relay);
        Relay.Publish(frames);
        factory.Dispose();

        var users = new List<LinkedUser>();
        for (var i = 0; i < 3; i++) users.Add(await Queue.LinkUserAsync());
        Users = users;
        // The PDS's clock is the harness's fake one; the processes run on the real clock: no stored expiry but one,
        // due within the refresh window, so the worker refreshes that session once.
        await Queue.ExecuteAsync($"UPDATE {Queue.Tables.Users} SET token_expires_at = NULL");
        await Queue.ExecuteAsync($"UPDATE {Queue.Tables.Users} SET token_expires_at = {DateTimeOffset.UtcNow.AddSeconds(30).ToUnixTimeSeconds()} WHERE user_id = {users[2].UserId}");
        // The first write is refused outright: a dead letter with a reason (a topic nobody replies to).
        Queue.Pds.InjectFault(new PdsFault.Error(400, "InvalidRecord", "refused by the test"), "com.atproto.repo.createRecord");
        await Queue.PostTopicAsync(users[0].UserId, "Refused", "<t>refused</t>");
        Settings = ServiceSettings.For(Queue.Database, Queue.KeysJson);
        Settings[SettingNames.RelayUrl] = Relay.Url.ToString();
        Settings[SettingNames.PlcDirectoryUrl] = plc.BaseUri.ToString();
        Settings["Firehose__LabelsEnabled"] = "false";
        Settings["Firehose__BatchMaxDelay"] = "00:00:00.100";
        Settings["QueueWorker__PollInterval"] = "00:00:00.200";
        Settings["QueueWorker__HousekeepingInterval"] = "00:00:01";
        Settings["QueueWorker__RequestTimeout"] = "00:00:10";

        Firehose = ServiceProcess.Start("AtSync.Firehose", Settings);
        _owned.Add(Firehose);
        Worker = ServiceProcess.Start("AtSync.QueueWorker", Settings);
        _owned.Add(Worker);
        await Firehose.WaitForHealthyAsync(TimeSpan.FromSeconds(60));
        await Worker.WaitForHealthyAsync(TimeSpan.FromSeconds(60));

        // Only once the refused row is a dead letter (the worker writes concurrently, so the fault could hit any row).
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (await Queue.ScalarAsync<long>($"SELECT COUNT(*) FROM {Queue.Tables.Queue} WHERE status = 'dead_letter'") == 0)
        {
            if (DateTime.UtcNow > deadline || Worker.HasExited) throw new TimeoutException("the refused row was not dead-lettered:\n" + Worker.Output);
            await Task.Delay(100);
        }
        var (topic, _) = await Queue.PostTopicAsync(users[1].UserId, "Hello", "<t>first</t>");
        await Queue.PostReplyAsync(topic, users[0].UserId, "<t>reply</t>");
        await Queue.PostTopicAsync(users[2].UserId, "Refreshed", "<t>after a refresh</t>");
    }

    /// <summary>Waits until the Firehose's cursor reached the stream's end and the queue holds only dead letters.</summary>
    public async Task WaitForWorkDoneAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var cursor = await Queue.ScalarAsync<long>($"SELECT COALESCE(MAX(cursor_value), 0) FROM {Queue.Tables.Cursors} WHERE service = 'firehose'");
            var open = await Queue.ScalarAsync<long>($"SELECT COUNT(*) FROM {Queue.Tables.Queue} WHERE status <> 'dead_letter'");
            if (cursor >= LastSeq && open == 0) return;
            if (Firehose.HasExited || Worker.HasExited || DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"work not done (cursor {cursor}, open rows {open}):\n{Firehose.Output}\n---\n{Worker.Output}");
            }
            await Task.Delay(100);
        }
    }

    public static async Task<string> ScrapeAsync(ServiceProcess service)
    {
        using var response = await service.GetAsync("/metrics");
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsStringAsync();
    }

    public async ValueTask DisposeAsync()
    {
        for (var i = _owned.Count - 1; i >= 0; i--)
        {
            try { await _owned[i].DisposeAsync(); } catch (Exception) { /* keep disposing the rest */ }
        }
        await Queue.DisposeAsync();
    }
}
