using System.Diagnostics;
using AtSync.Core.Settings;
using AtSync.Core.Storage;
using AtSync.Firehose;
using AtSync.Testing;
using AtSync.Firehose.Ingest;
using AtSync.Tests.Firehose;
using AtSync.Tests.Infrastructure;

namespace AtSync.Tests.Deployment.Live;

public sealed partial class LiveComposeDeploymentTests
{
    /// <summary>
    /// The relay streams <paramref name="frames"/> (paced, about 1,000 events/s); once a quarter is committed the
    /// Firehose's process is SIGKILLed from the host (a crash: `docker kill` would count as a manual stop). Docker must
    /// restart it by its restart policy, and it must reconnect with the cursor it had stored.
    /// </summary>
    private async Task FirehoseCrashAsync(ComposeDeployment deployment, LoopbackRelay relay, IReadOnlyList<(long Seq, byte[] Frame)> frames, AtSyncTables tables)
    {
        var db = deployment.RootConnectionString;
        var before = await deployment.StateAsync("firehose");
        var connectionsBefore = relay.Connections;
        var publisher = Task.Run(async () =>
        {
            for (var i = 0; i < frames.Count; i += 100)
            {
                relay.Publish(frames.Skip(i).Take(100));
                await Task.Delay(100);
            }
        });
        var killAt = frames[frames.Count / 4].Seq;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        long cursor;
        while ((cursor = await DeploymentDatabase.CursorAsync(db, tables, FirehoseStreams.RepoService) ?? 0) < killAt && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.True(cursor >= killAt, $"the Firehose did not reach seq {killAt} within 120 s (cursor {cursor})");
        var killed = Stopwatch.StartNew();
        await KillMainProcessAsync(deployment, "firehose");
        await Task.Delay(50);
        var storedAtKill = await DeploymentDatabase.CursorAsync(db, tables, FirehoseStreams.RepoService) ?? 0;
        var last = frames[^1].Seq;
        _figures.Check("Firehose SIGKILLed mid-stream at cursor", storedAtKill.ToString(System.Globalization.CultureInfo.InvariantCulture), $"> 0 and < {last}",
            storedAtKill > 0 && storedAtKill < last);
        Log($"Firehose killed at stored cursor {storedAtKill}");

        var restarted = await WaitForRestartAsync(deployment, "firehose", before, TimeSpan.FromSeconds(60));
        _figures.Seconds("Firehose SIGKILL → running again (restart policy)", killed.Elapsed.TotalSeconds, 30);
        _figures.Count("Firehose restarts by Docker's restart policy", restarted.RestartCount - before.RestartCount, 1);
        await publisher;
        await DeploymentDatabase.WaitForCursorAsync(db, tables, FirehoseStreams.RepoService, last, TimeSpan.FromSeconds(180));
        var resumed = relay.Cursors.Skip(connectionsBefore).Where(c => c is not null).Select(c => long.Parse(c!, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        var resume = resumed.Count > 0 ? resumed[0] : -1;
        _figures.Check("Firehose resumed from the stored cursor (relay saw `cursor=`)", resume.ToString(System.Globalization.CultureInfo.InvariantCulture),
            $"≥ {storedAtKill} (stored at the kill) and < {last}", resume >= storedAtKill && resume < last);
        await deployment.WaitForHealthAsync(["firehose"], "healthy", TimeSpan.FromSeconds(90));
    }

    /// <summary>
    /// <c>docker compose stop mysql</c> while the relay sends more events: both services must turn unhealthy (Docker
    /// health) within 60 s; after <c>start mysql</c> healthy again with no restart of theirs, and every event applied.
    /// </summary>
    private async Task MysqlOutageAsync(ComposeDeployment deployment, LoopbackRelay relay, IReadOnlyList<(long Seq, byte[] Frame)> frames, AtSyncTables tables)
    {
        var services = new[] { "firehose", "queueworker", "linking" };
        var before = new Dictionary<string, ContainerState>();
        foreach (var service in services) before[service] = await deployment.StateAsync(service);

        var outage = Stopwatch.StartNew();
        (await deployment.ComposeAsync(["stop", "mysql"], TimeSpan.FromMinutes(1))).EnsureSuccess();
        _figures.Seconds("`stop mysql` (MariaDB stand-in shuts down cleanly)", outage.Elapsed.TotalSeconds, 30);
        relay.Publish(frames);
        await deployment.WaitForHealthAsync(services, "unhealthy", TimeSpan.FromSeconds(90));
        _figures.Seconds("`stop mysql` → firehose, queueworker and linking unhealthy", outage.Elapsed.TotalSeconds, 60);

        var recovery = Stopwatch.StartNew();
        (await deployment.ComposeAsync(["start", "mysql"], TimeSpan.FromMinutes(2))).EnsureSuccess();
        await deployment.WaitForHealthAsync(ComposeDeployment.Services, "healthy", TimeSpan.FromSeconds(120));
        _figures.Seconds("`start mysql` → all services healthy again", recovery.Elapsed.TotalSeconds, 90);
        foreach (var service in services)
        {
            var after = await deployment.StateAsync(service);
            var restarts = after.RestartCount - before[service].RestartCount + (after.StartedAt == before[service].StartedAt ? 0 : 1);
            _figures.Count($"{service} restarts during the MySQL outage", restarts, 0);
        }
        await DeploymentDatabase.WaitForCursorAsync(deployment.RootConnectionString, tables, FirehoseStreams.RepoService, frames[^1].Seq, TimeSpan.FromSeconds(120));
        Log("events sent during the outage applied");
    }

    /// <summary>The deployment's rows against the same events applied once by the Firehose process on the reference database.</summary>
    private async Task CompareWithCleanPassAsync(ComposeDeployment deployment, MariaDbServer server, TestDatabase reference,
        IReadOnlyList<(long Seq, byte[] Frame)> frames, AtSyncTables tables)
    {
        var capture = Path.Combine(Path.GetTempPath(), $"atsync-deploy-{Guid.NewGuid():N}.bin.zst");
        await CaptureFileSource.WriteAsync(capture, frames.Select(f => (ReadOnlyMemory<byte>)f.Frame), compress: true);
        try
        {
            var settings = ServiceSettings.For(reference, ServiceSettings.NewTokenKeysJson());
            settings[SettingNames.PlcDirectoryUrl] = deployment.Local.PlcUrl.ToString();
            settings[FirehoseOptions.ReplayFileSetting] = capture;
            settings["Firehose__LabelsEnabled"] = "false";
            settings[SettingNames.LogLevel] = "Warning";
            await using var clean = ServiceProcess.Start("AtSync.Firehose", settings);
            await DeploymentDatabase.WaitForCursorAsync(reference.ConnectionString, reference.Tables, FirehoseStreams.RepoService, frames[^1].Seq, TimeSpan.FromMinutes(4));
            clean.Terminate();
            Assert.True(await clean.WaitForExitAsync(TimeSpan.FromSeconds(30)), clean.Output);
        }
        finally
        {
            File.Delete(capture);
        }
        var expected = await DatabaseSnapshot.TakeAsync(reference);
        var actual = await DatabaseSnapshot.TakeAsync(DeploymentDatabase.AsTestDatabase(server, deployment.RootConnectionString));
        var expectedLines = expected.Split('\n').ToHashSet();
        var actualLines = actual.Split('\n').ToList();
        var posts = await DeploymentDatabase.CountAsync(reference.ConnectionString, $"SELECT COUNT(*) FROM {reference.Tables.Posts}");
        var deployed = await DeploymentDatabase.CountAsync(deployment.RootConnectionString, $"SELECT COUNT(*) FROM {tables.Posts}");
        var duplicated = await DeploymentDatabase.CountAsync(deployment.RootConnectionString,
            $"SELECT COUNT(*) FROM (SELECT at_uri FROM {tables.Posts} WHERE at_uri IS NOT NULL GROUP BY at_uri HAVING COUNT(*) > 1) d");
        _figures.Info("forum posts from the relay (clean single pass)", posts.ToString(System.Globalization.CultureInfo.InvariantCulture));
        _figures.Count("posts lost (clean pass − deployment)", Math.Max(0, posts - deployed), 0);
        _figures.Count("posts duplicated (same AT-URI twice)", duplicated, 0);
        _figures.Count("snapshot lines differing from the clean single pass (users, forums, topics, posts, cursors, …)",
            actualLines.Count(l => !expectedLines.Contains(l)) + Math.Abs(expectedLines.Count - actualLines.ToHashSet().Count), 0);
        Assert.True(posts > 500, $"only {posts} forum posts in the stream");
        Assert.Equal(expected, actual);
    }

    /// <summary>SIGKILL of a container's main process from the host (root), or from a helper container sharing the host's PID namespace.</summary>
    private static async Task KillMainProcessAsync(ComposeDeployment deployment, string service)
    {
        var current = await deployment.StateAsync(service);
        if (current.Pid <= 0) throw new InvalidOperationException($"{service} has no running process");
        if (Signals.Send(current.Pid, Signals.Kill)) return;
        (await deployment.Docker.DockerAsync(["run", "--rm", "--pid=host", "--network=none", "--user", "0", "atsync-test/mysql-standin:local", "kill", "-9",
            current.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)])).EnsureSuccess();
    }

    /// <summary>Waits until the container runs again with another process (Docker restarted it).</summary>
    private static async Task<ContainerState> WaitForRestartAsync(ComposeDeployment deployment, string service, ContainerState before, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        ContainerState state;
        do
        {
            state = await deployment.StateAsync(service);
            if (state.Status == "running" && state.Pid > 0 && state.Pid != before.Pid && state.RestartCount > before.RestartCount) return state;
            await Task.Delay(100);
        }
        while (DateTime.UtcNow < deadline);
        throw new TimeoutException($"{service} was not restarted within {timeout.TotalSeconds} s (status {state.Status}, restarts {state.RestartCount})");
    }
}
