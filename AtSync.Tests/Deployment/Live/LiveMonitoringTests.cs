using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AtSync.Firehose;
using AtSync.Testing;
using AtSync.Testing.Synthetic;
using AtSync.Tests.Firehose;
using AtSync.Tests.Infrastructure;
using AtSync.Tests.Operations;
using AtSync.Tests.QueueWorker;
using Xunit.Abstractions;

namespace AtSync.Tests.Deployment.Live;

/// <summary>
/// The compose profile <c>monitoring</c> brought up for real, on the deployment test's engine and images
/// (<see cref="ComposeDeployment"/>, <see cref="LocalImages"/>): <c>--profile monitoring up</c> starts Prometheus with
/// the repository's <c>ops/prometheus</c> mounted read-only and the compose file's own command, and Prometheus's HTTP API
/// then shows both services' targets up, every rule of <c>alerts.yml</c> loaded, and the services' series queryable.
/// No registry is reachable here: the Prometheus image is built from Debian's <c>prometheus</c> package on the same
/// mmdebstrap base and tagged with the pinned name (<c>docker/test-assets/prometheus/</c>). The override adds only what
/// this machine needs: host networking, a loopback port, and scrape targets at the services' loopback ports mounted
/// over <c>targets/</c>. Grafana, cAdvisor and mysqld_exporter have no local image (Grafana is not packaged in Debian;
/// Debian's mysqld_exporter 0.14 predates the pinned 0.19's flags) and are not started; their files are checked by
/// <see cref="MonitoringFilesTests"/>.
/// </summary>
[Collection(LiveDeploymentCollection.Name)]
public sealed class LiveMonitoringTests(ITestOutputHelper output)
{
    private static readonly string PrometheusLocalImage = "prom/prometheus:" + PinnedTag("prometheus")[..PinnedTag("prometheus").IndexOf('@')];

    /// <summary>The tag and digest the committed compose file pins for a service (<c>v3.5.0@sha256:…</c>).</summary>
    private static string PinnedTag(string service)
    {
        var image = ComposeFile.Load(Path.Combine(RepositoryPaths.Root, ComposeDeployment.ComposeFileName))[service].Image!;
        return image[(image.LastIndexOf(':', image.IndexOf('@')) + 1)..];
    }

    [Fact]
    public async Task Monitoring_profile_scrapes_both_services_loads_the_rules_and_answers_queries()
    {
        var work = Directory.CreateTempSubdirectory("atsync-monitoring-");
        try
        {
            await using var docker = await DockerHost.AcquireAsync();
            output.WriteLine(docker.Description);
            var compose = await LiveComposeDeploymentTests.FindComposeAsync(docker);
            var images = await LocalImages.BuildAsync(docker, work, output.WriteLine);
            await LocalImages.BuildAssetAsync(docker, work, "prometheus", PrometheusLocalImage, output.WriteLine);

            using var factory = ForumFrameFactory.Create();
            await using var plc = await LoopbackPlc.StartAsync(factory.SigningKey.PublicKey);
            await using var relay = await LoopbackRelay.StartAsync(FirehoseStreams.SubscribeReposPath);
            await using var labeler = await LoopbackRelay.StartAsync(FirehoseStreams.SubscribeLabelsPath);
            await using var pds = await LoopbackPds.StartAsync();
            var local = new LocalEnvironment(relay.Url, new Uri($"http://127.0.0.1:{labeler.Url.Port}"), FirehoseHarness.LabelerDid, plc.BaseUri, pds.BaseUri,
                ServiceProcess.FreeLoopbackPort(), ServiceProcess.FreeLoopbackPort(), ServiceProcess.FreeLoopbackPort(), ServiceProcess.FreeLoopbackPort(),
                ServiceProcess.FreeLoopbackPort(), ServiceProcess.FreeLoopbackPort(), ServiceProcess.FreeLoopbackPort());
            var deployment = new ComposeDeployment(docker, compose, work, images, local);
            var prometheusPort = ServiceProcess.FreeLoopbackPort();
            var monitoringOverride = WriteMonitoringOverride(work, local, prometheusPort);
            output.WriteLine(File.ReadAllText(monitoringOverride));
            string[] withMonitoring = ["-f", monitoringOverride, "--profile", "monitoring"];
            try
            {
                (await deployment.ComposeAsync([.. withMonitoring, "up", "--detach", "--pull", "never"], TimeSpan.FromMinutes(4))).EnsureSuccess();
                await deployment.WaitForHealthAsync(ComposeDeployment.Services, "healthy", TimeSpan.FromMinutes(3));
                using var prometheus = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{prometheusPort}"), Timeout = TimeSpan.FromSeconds(10) };
                await CheckPrometheusAsync(deployment, withMonitoring, prometheus);
            }
            catch
            {
                output.WriteLine((await deployment.ComposeAsync([.. withMonitoring, "logs", "--no-color", "--tail", "60"])).Output);
                throw;
            }
            finally
            {
                var down = await deployment.ComposeAsync([.. withMonitoring, "down", "--volumes", "--remove-orphans"], TimeSpan.FromMinutes(2));
                output.WriteLine($"down -v: exit {down.ExitCode}");
                if (docker.Started) await docker.DockerAsync(["image", "prune", "--force"]);
            }
        }
        finally
        {
            try
            {
                work.Delete(recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private async Task CheckPrometheusAsync(ComposeDeployment deployment, string[] withMonitoring, HttpClient prometheus)
    {
        // The container runs the local build of the pinned name with the compose file's own command and read-only mount.
        var id = (await deployment.ComposeAsync([.. withMonitoring, "ps", "--all", "--quiet", "prometheus"])).EnsureSuccess().StandardOutput.Trim();
        Assert.NotEqual("", id);
        using (var inspect = JsonDocument.Parse((await deployment.Docker.DockerAsync(["inspect", "--format", "{{json .}}", id])).EnsureSuccess().StandardOutput))
        {
            var root = inspect.RootElement;
            Assert.Equal(PrometheusLocalImage, root.GetProperty("Config").GetProperty("Image").GetString());
            var args = root.GetProperty("Args").EnumerateArray().Select(a => a.GetString()).ToList();
            Assert.Contains("--config.file=/etc/prometheus/prometheus.yml", args);
            var config = root.GetProperty("Mounts").EnumerateArray().Single(m => m.GetProperty("Destination").GetString() == "/etc/prometheus");
            Assert.Equal(Path.Combine(RepositoryPaths.Root, "ops", "prometheus"), config.GetProperty("Source").GetString());
            Assert.False(config.GetProperty("RW").GetBoolean(), "ops/prometheus is mounted writable");
            Assert.Equal("65534:65534", root.GetProperty("Config").GetProperty("User").GetString());
        }

        // Both services' targets up (the first scrape comes within one 15 s interval of the start).
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        Dictionary<string, string> health = [];
        while (DateTime.UtcNow < deadline)
        {
            health = await TargetHealthAsync(prometheus);
            if (health.GetValueOrDefault("firehose") == "up" && health.GetValueOrDefault("queueworker") == "up") break;
            await Task.Delay(1000);
        }
        output.WriteLine("targets: " + string.Join(", ", health.Select(kv => $"{kv.Key}={kv.Value}")));
        Assert.Equal("up", health.GetValueOrDefault("firehose"));
        Assert.Equal("up", health.GetValueOrDefault("queueworker"));

        // Every alert rule of alerts.yml is loaded, in a group, with its expression.
        using (var rules = JsonDocument.Parse(await prometheus.GetStringAsync("/api/v1/rules")))
        {
            var loaded = rules.RootElement.GetProperty("data").GetProperty("groups").EnumerateArray()
                .SelectMany(g => g.GetProperty("rules").EnumerateArray())
                .Where(r => r.GetProperty("type").GetString() == "alerting")
                .ToDictionary(r => r.GetProperty("name").GetString()!, r => r.GetProperty("health").GetString());
            var expected = OpsFiles.AlertRules().Select(r => r.Name).Order(StringComparer.Ordinal).ToList();
            Assert.Equal(expected, loaded.Keys.Order(StringComparer.Ordinal));
            output.WriteLine($"rules loaded: {string.Join(", ", loaded.Keys)}");
        }

        // A service metric answers a query: the queue gauges (recounted every housekeeping interval) and both
        // services' start time, labelled by job.
        var pending = await QueryAsync(prometheus, "atsync_queue_pending", TimeSpan.FromMinutes(1));
        Assert.Equal("queueworker", Assert.Single(pending).GetProperty("metric").GetProperty("job").GetString());
        Assert.Equal("0", Assert.Single(pending).GetProperty("value")[1].GetString());
        var started = await QueryAsync(prometheus, "max by (job) (process_start_time_seconds)", TimeSpan.FromSeconds(30));
        Assert.Equal(["firehose", "queueworker"], started.Select(r => r.GetProperty("metric").GetProperty("job").GetString()).Order(StringComparer.Ordinal));
        var firehoseUp = await QueryAsync(prometheus, "up{job=\"firehose\"}", TimeSpan.FromSeconds(30));
        Assert.Equal("1", Assert.Single(firehoseUp).GetProperty("value")[1].GetString());
    }

    private static async Task<Dictionary<string, string>> TargetHealthAsync(HttpClient prometheus)
    {
        using var targets = JsonDocument.Parse(await prometheus.GetStringAsync("/api/v1/targets"));
        return targets.RootElement.GetProperty("data").GetProperty("activeTargets").EnumerateArray()
            .GroupBy(t => t.GetProperty("labels").GetProperty("job").GetString()!)
            .ToDictionary(g => g.Key, g => string.Join("/", g.Select(t => t.GetProperty("health").GetString())));
    }

    /// <summary>An instant query's result vector, polled until it is not empty (or the time is up).</summary>
    private static async Task<List<JsonElement>> QueryAsync(HttpClient prometheus, string query, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            var response = await prometheus.GetFromJsonAsync<JsonElement>("/api/v1/query?query=" + Uri.EscapeDataString(query));
            Assert.Equal("success", response.GetProperty("status").GetString());
            var result = response.GetProperty("data").GetProperty("result").EnumerateArray().Select(r => r.Clone()).ToList();
            if (result.Count > 0 || DateTime.UtcNow > deadline) return result;
            await Task.Delay(1000);
        }
    }

    /// <summary>
    /// The monitoring profile on this machine: Prometheus on the host network at a loopback port (the compose file's
    /// command plus a listen address), its targets at the services' loopback ports (mounted over targets/); the
    /// profile's services that have no local image moved to a profile nobody activates.
    /// </summary>
    private static string WriteMonitoringOverride(DirectoryInfo work, LocalEnvironment local, int prometheusPort)
    {
        var targets = Directory.CreateDirectory(Path.Combine(work.FullName, "prometheus-targets"));
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(targets.FullName, (UnixFileMode)0b111_101_101);
        foreach (var (job, port) in new[] { ("firehose", (int?)local.FirehosePort), ("queueworker", local.QueueWorkerPort), ("cadvisor", null), ("mysqld", null) })
        {
            File.WriteAllText(Path.Combine(targets.FullName, job + ".yml"), port is { } p ? $"- targets: [\"127.0.0.1:{p}\"]\n" : "[]\n");
        }
        var command = ComposeFile.Load(Path.Combine(RepositoryPaths.Root, ComposeDeployment.ComposeFileName))["prometheus"].Command
            .Append($"--web.listen-address=127.0.0.1:{prometheusPort}")
            .Select(a => JsonSerializer.Serialize(a));
        var text = new StringBuilder();
        text.Append($$"""
            # Generated by AtSync.Tests/Deployment/Live/LiveMonitoringTests for one run: the monitoring profile on this machine.
            services:
              prometheus:
                image: "{{PrometheusLocalImage}}"
                network_mode: host
                networks: !reset []
                command: [{{string.Join(", ", command)}}]
                volumes:
                  - type: bind
                    source: "{{targets.FullName}}"
                    target: /etc/prometheus/targets
                    read_only: true
                healthcheck:
                  test: ["CMD", "wget", "--quiet", "--spider", "http://127.0.0.1:{{prometheusPort}}/-/ready"]

            """);
        foreach (var service in new[] { "grafana", "cadvisor", "mysqld-exporter" })
        {
            text.Append($"  {service}:\n    profiles: !override [\"monitoring-no-local-image\"]\n    network_mode: host\n    networks: !reset []\n    ports: !reset []\n");
        }
        var path = Path.Combine(work.FullName, "docker-compose.monitoring.yml");
        File.WriteAllText(path, text.ToString());
        return path;
    }
}
