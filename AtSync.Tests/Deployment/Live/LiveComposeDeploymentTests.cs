using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using AtSync.Firehose;
using AtSync.Testing;
using AtSync.Testing.Synthetic;
using AtSync.Tests.Firehose;
using AtSync.Tests.Infrastructure;
using AtSync.Tests.QueueWorker;
using Xunit.Abstractions;

namespace AtSync.Tests.Deployment.Live;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LiveDeploymentCollection
{
    public const string Name = "Live compose deployment";
}

/// <summary>
/// The committed <c>docker-compose.generated.yml</c> brought up for real (unchanged, plus an override for this
/// machine: see <see cref="ComposeDeployment"/>) on local images (<see cref="LocalImages"/>), with the relay, labeler,
/// PLC directory and PDS as the tests' loopback servers on the host, and put through the deployment's acceptance
/// scenarios. Every figure is measured, printed as a table (and written to artifacts/ci by .ci/run), then asserted.
/// Needs Docker (a running daemon, or root to start one), Docker Compose v2 and mmdebstrap: without them it fails
/// with the reason; it never skips. Runs alone (its own collection): its bounds are wall-clock times.
/// </summary>
[Collection(LiveDeploymentCollection.Name)]
public sealed partial class LiveComposeDeploymentTests(ITestOutputHelper output)
{
    private static readonly string BoardUri = $"at://{ServiceSettings.ForumDid}/net.vza.forum.board/3kboardgeneral";
    private const long FirehoseForumId = 2; // "Your first forum", created by the installer
    private const long QueueForumId = 3;

    private readonly DeploymentFigures _figures = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    private void Log(string message) => output.WriteLine($"[{_clock.Elapsed.TotalSeconds,6:F1} s] {message}");

    [Fact]
    public async Task Compose_deployment_comes_up_survives_failures_and_keeps_its_data()
    {
        var work = Directory.CreateTempSubdirectory("atsync-deploy-");
        try
        {
            await using var docker = await DockerHost.AcquireAsync();
            Log(docker.Description);
            _figures.Info("Docker", docker.Description);
            var compose = await FindComposeAsync(docker);
            var images = await LocalImages.BuildAsync(docker, work, Log);
            _figures.Info("local images built", $"{images.BuildSeconds:F0} s (base image {(images.BaseFromCache ? "from the cache" : "made by mmdebstrap")})");

            using var factory = ForumFrameFactory.Create();
            await using var plc = await LoopbackPlc.StartAsync(factory.SigningKey.PublicKey);
            await using var relay = await LoopbackRelay.StartAsync(FirehoseStreams.SubscribeReposPath);
            await using var labeler = await LoopbackRelay.StartAsync(FirehoseStreams.SubscribeLabelsPath);
            await using var pds = await LoopbackPds.StartAsync();
            var local = new LocalEnvironment(relay.Url, new Uri($"http://127.0.0.1:{labeler.Url.Port}"), FirehoseHarness.LabelerDid, plc.BaseUri, pds.BaseUri,
                ServiceProcess.FreeLoopbackPort(), ServiceProcess.FreeLoopbackPort(), ServiceProcess.FreeLoopbackPort(), ServiceProcess.FreeLoopbackPort(),
                ServiceProcess.FreeLoopbackPort(), ServiceProcess.FreeLoopbackPort(), ServiceProcess.FreeLoopbackPort());
            var deployment = new ComposeDeployment(docker, compose, work, images, local);
            Log($"project {deployment.ProjectName}, override {deployment.OverrideFile}:\n{File.ReadAllText(deployment.OverrideFile)}");

            using var stopSampling = new CancellationTokenSource();
            var peaks = new Dictionary<string, double>();
            var sampler = SampleMemoryAsync(deployment, peaks, stopSampling.Token);
            try
            {
                await RunScenariosAsync(deployment, factory, relay, pds);
            }
            finally
            {
                await stopSampling.CancelAsync();
                await sampler;
                foreach (var service in ComposeDeployment.Services)
                {
                    if (peaks.TryGetValue(service, out var peak))
                    {
                        _figures.Mebibytes($"peak memory of {service} (docker stats, whole run)", peak, ComposeDeployment.MemoryLimitMebibytes(service));
                    }
                }
                var down = await deployment.ComposeAsync(["down", "--volumes", "--remove-orphans"], TimeSpan.FromMinutes(2));
                Log($"final down -v: exit {down.ExitCode}");
                if (docker.Started) await docker.DockerAsync(["image", "prune", "--force"]);
                // 600 s before the front door checks and the second `up` on docker-compose.secrets.yml (about 90 s more).
                _figures.Seconds("deployment test without the image build", _clock.Elapsed.TotalSeconds - images.BuildSeconds, 720);
                _figures.Info("whole deployment test", $"{_clock.Elapsed.TotalSeconds:F0} s");
                output.WriteLine(_figures.Markdown());
            }
        }
        catch (Exception ex)
        {
            _figures.Check("test ran to the end", ex.GetType().Name + ": " + ex.Message.Split('\n')[0], "no error", false);
            output.WriteLine(_figures.Markdown());
            throw;
        }
        finally
        {
            _figures.Write();
            try
            {
                work.Delete(recursive: true);
            }
            catch (IOException)
            {
            }
        }
        _figures.AssertAllMet();
    }

    private async Task RunScenariosAsync(ComposeDeployment deployment, ForumFrameFactory factory, LoopbackRelay relay, LoopbackPds pds)
    {
        var tables = new AtSync.Core.Storage.AtSyncTables("phpbb_");
        var db = deployment.RootConnectionString;

        // 1. up -d from empty volumes → every service healthy (Docker's own health status).
        var up = Stopwatch.StartNew();
        (await deployment.ComposeAsync(["up", "--detach", "--pull", "never"], TimeSpan.FromMinutes(3))).EnsureSuccess();
        await deployment.WaitForHealthAsync(ComposeDeployment.Services, "healthy", TimeSpan.FromMinutes(3));
        _figures.Seconds($"`up -d` from empty volumes → all {ComposeDeployment.Services.Length} services healthy", up.Elapsed.TotalSeconds, 120);
        Log("all healthy");
        await CheckHostNetworkingAndUsersAsync(deployment);
        await CheckDatabaseAsProductionRunsItAsync(deployment);

        // The front door: TLS, the redirect, the headers, /atproto/ to the linking service, the rest to phpBB, 429s.
        await FrontDoorAsync(deployment);

        // The board the relay's posts belong to, mapped as the forum's admin would; the clean-pass reference starts
        // from a copy of the same installer rows.
        await DeploymentDatabase.MapForumAsync(db, tables, FirehoseForumId, BoardUri, "", "general");
        var server = await MariaDbServer.SharedAsync();
        await using var reference = await server.CreateDatabaseAsync();
        foreach (var table in new[] { tables.PhpbbUsers, tables.PhpbbForums, tables.PhpbbTopics, tables.PhpbbPosts })
        {
            await DeploymentDatabase.CopyRowsAsync(db, reference.ConnectionString, table);
        }
        await DeploymentDatabase.MigrateAsync(reference.ConnectionString, reference.Tables);
        await DeploymentDatabase.MapForumAsync(reference.ConnectionString, reference.Tables, FirehoseForumId, BoardUri, "", "general");

        await CheckStructuredLogsAsync(deployment);

        var frames = SyntheticStream.Generate(factory, new SyntheticStreamOptions
        {
            Frames = 3600, ForumShare = 0.35, BoardUri = BoardUri, Authors = 60, Seed = 1201,
        }).ToList();
        var streamed = frames[..2600];
        var duringOutage = frames[2600..];

        // 2. SIGKILL of the Firehose process while the relay streams → restart by policy, resume from the stored cursor.
        await FirehoseCrashAsync(deployment, relay, streamed, tables);

        // 3. MySQL stopped and started again: both services unhealthy, then healthy without a restart; nothing lost.
        await MysqlOutageAsync(deployment, relay, duringOutage, tables);

        // Everything the relay sent, applied once: the rows equal a clean single pass of the same events.
        await CompareWithCleanPassAsync(deployment, server, reference, frames, tables);

        // 4. SIGKILL of the QueueWorker during writes: every queued post on the PDS exactly once.
        await QueueWorkerCrashAsync(deployment, pds, tables);

        // 5. down (graceful, cursor saved) then up: everything persists in the named volume.
        await DownAndUpAsync(deployment, server, frames[^1].Seq, tables, pds);

        // 6. down while the relay streams: the cursor saved is the last event applied; up resumes from it.
        await DownWhileStreamingAsync(deployment, factory, relay, frames[^1].Seq, tables);

        // 7. No secret of .env in any container log or health body.
        await CheckSecretsAsync(deployment);

        // 8. docker-compose.secrets.yml: the same deployment with every secret only as a file; none in `docker inspect`.
        await SecretFilesAsync(deployment, tables, pds);
    }

    internal static async Task<string[]> FindComposeAsync(DockerHost docker)
    {
        static bool Usable(string version)
        {
            var match = Regex.Match(version, @"(\d+)\.(\d+)");
            // `!reset` in override files needs Compose 2.24 or later.
            return match.Success && (int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture)) is var (major, minor)
                && (major > 2 || (major == 2 && minor >= 24));
        }
        var plugin = await docker.DockerAsync(["compose", "version", "--short"]);
        if (plugin.ExitCode == 0 && Usable(plugin.StandardOutput)) return ["docker", "compose"];
        if (CommandRunner.Which("docker-compose") is { } standalone)
        {
            var version = await CommandRunner.RunAsync(standalone, ["version", "--short"], docker.Environment);
            if (version.ExitCode == 0 && Usable(version.StandardOutput)) return [standalone];
        }
        throw new InvalidOperationException(
            "Docker Compose 2.24 or later is needed (`docker compose` plugin or docker-compose 2.x); .ci/run installs it. Found: "
            + (plugin.ExitCode == 0 ? plugin.StandardOutput.Trim() : "none"));
    }

    private async Task CheckHostNetworkingAndUsersAsync(ComposeDeployment deployment)
    {
        var created = (await deployment.Docker.DockerAsync(["network", "ls", "--filter", "label=com.docker.compose.project=" + deployment.ProjectName, "--quiet"]))
            .EnsureSuccess().StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
        _figures.Count("networks created by compose (host networking only)", created, 0);
        foreach (var (service, uid) in new[] { ("mysql", "999"), ("forum", "33"), ("firehose", "1654"), ("queueworker", "1654"), ("linking", "1654"), ("proxy", "101") })
        {
            var status = (await deployment.ComposeAsync(["exec", "-T", service, "cat", "/proc/1/status"])).EnsureSuccess().StandardOutput;
            var actual = Regex.Match(status, @"^Uid:\s+(\d+)", RegexOptions.Multiline).Groups[1].Value;
            _figures.Check($"{service}: uid of the container's main process", actual, $"= {uid} (compose `user`)", actual == uid);
        }
    }

    private async Task CheckStructuredLogsAsync(ComposeDeployment deployment)
    {
        // Outside Development the services log one JSON object per line (README: Operations), behind compose's
        // "<service>-1  | " prefix: a record is a line whose object names an AtSync category and a level.
        foreach (var (service, own) in new[] { ("firehose", "Stream firehose starting from"), ("queueworker", "Queue worker started (batch") })
        {
            var logs = await deployment.LogsAsync(service);
            var records = logs.Split('\n').Count(IsAtSyncJsonRecord);
            _figures.AtLeast($"`docker compose logs {service}`: AtSync log records", records, 2);
            _figures.Check($"`docker compose logs {service}` shows its own line", logs.Contains(own, StringComparison.Ordinal) ? "yes" : "no", $"contains \"{own}\"",
                logs.Contains(own, StringComparison.Ordinal));
        }
    }

    private static bool IsAtSyncJsonRecord(string line)
    {
        var start = line.IndexOf('{');
        if (start < 0) return false;
        try
        {
            using var json = System.Text.Json.JsonDocument.Parse(line.AsMemory(start));
            return json.RootElement.TryGetProperty("Category", out var category)
                && category.GetString() is { } name && name.StartsWith("AtSync.", StringComparison.Ordinal)
                && json.RootElement.TryGetProperty("LogLevel", out _);
        }
        catch (System.Text.Json.JsonException)
        {
            return false;
        }
    }

    private static async Task SampleMemoryAsync(ComposeDeployment deployment, Dictionary<string, double> peaks, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                foreach (var (service, mebibytes) in await deployment.MemoryAsync())
                {
                    lock (peaks) peaks[service] = Math.Max(peaks.GetValueOrDefault(service), mebibytes);
                }
                await Task.Delay(500, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception ex) when (ex is InvalidOperationException or FormatException)
            {
            }
        }
    }

    private static async Task<string> HealthBodyAsync(int port, string path)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        try
        {
            using var response = await client.GetAsync($"http://127.0.0.1:{port}{path}");
            return $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
        }
        catch (HttpRequestException ex)
        {
            return "no answer: " + ex.HttpRequestError;
        }
    }
}
