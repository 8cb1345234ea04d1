using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Eventing;
using Aspire.Hosting.Testing;
using AtSync.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace AtSync.Tests.Aspire;

/// <summary>
/// The AppHost's optional monitoring (AtSync.AppHost/Monitoring.cs) in the application model: off by default; with
/// <c>Parameters:monitoring=true</c> (the <c>monitoring</c> launch profile) Prometheus and Grafana containers, pinned by
/// tag and digest, with <c>ops/</c> mounted read-only, Prometheus scraping both services (file-based targets the
/// AppHost writes when Prometheus starts) and Grafana pointed at Prometheus; in publish mode always, plus cAdvisor.
/// </summary>
public sealed class MonitoringModelTests
{
    private const string PrometheusImage = "prom/prometheus";
    private const string PrometheusTag = "v3.5.0@sha256:63805ebb8d2b3920190daf1cb14a60871b16fd38bed42b857a3182bc621f4996";
    private const string GrafanaImage = "grafana/grafana";
    private const string GrafanaTag = "12.2.0@sha256:74144189b38447facf737dfd0f3906e42e0776212bf575dc3334c3609183adf7";

    private static Dictionary<string, string> Settings(string? monitoring)
    {
        var settings = AppHostFactory.ExistingForumSettings();
        if (monitoring is not null) settings["Parameters:monitoring"] = monitoring;
        settings["Parameters:grafana-admin-password"] = AppHostFactory.Secret();
        return settings;
    }

    private static string[] MonitoringNames(IDistributedApplicationBuilder builder) =>
        [.. builder.Resources.Where(r => r.Name is "prometheus" or "grafana" or "cadvisor" or "mysqld-exporter" or "grafana-admin-password").Select(r => r.Name).Order(StringComparer.Ordinal)];

    [Theory]
    [InlineData(null)]
    [InlineData("false")]
    public async Task Without_the_parameter_there_is_no_monitoring(string? monitoring)
    {
        await using var builder = await AppHostFactory.RunModeAsync(Settings(monitoring));
        Assert.Empty(MonitoringNames(builder));
        Assert.Empty(builder.Resources.OfType<ContainerResource>());
    }

    [Fact]
    public async Task With_the_parameter_Prometheus_and_Grafana_run_with_ops_mounted_read_only()
    {
        await using var builder = await AppHostFactory.RunModeAsync(Settings("true"));
        Assert.Equal(["grafana", "grafana-admin-password", "prometheus"], MonitoringNames(builder));
        Assert.True(AppHostModelTests.Resource<ParameterResource>(builder, "grafana-admin-password").Secret);

        var prometheus = AppHostModelTests.Resource<ContainerResource>(builder, "prometheus");
        var image = Assert.Single(prometheus.Annotations.OfType<ContainerImageAnnotation>());
        Assert.Equal((PrometheusImage, PrometheusTag), (image.Image, image.Tag));
        var mounts = prometheus.Annotations.OfType<ContainerMountAnnotation>().ToDictionary(m => m.Target);
        Assert.Equal(Path.Combine(RepositoryPaths.Root, "ops", "prometheus"), Path.TrimEndingDirectorySeparator(mounts["/etc/prometheus"].Source!));
        Assert.All(mounts.Values, m => Assert.True(m.IsReadOnly, $"{m.Target} is mounted writable"));
        Assert.Equal(ContainerMountType.BindMount, mounts["/etc/prometheus/targets"].Type);
        Assert.True(Directory.Exists(mounts["/etc/prometheus/targets"].Source), "the run-mode targets folder is not created");
        var args = await ArgumentsAsync(prometheus);
        Assert.Contains("--config.file=/etc/prometheus/prometheus.yml", args);
        Assert.Contains(prometheus.Annotations.OfType<EndpointAnnotation>(), e => e.Name == "http" && e.TargetPort == 9090);
        Assert.Equal(["firehose", "queueworker"], prometheus.Annotations.OfType<WaitAnnotation>().Select(w => w.Resource.Name).Order(StringComparer.Ordinal));
        Assert.Contains(prometheus.Annotations.OfType<HealthCheckAnnotation>(), h => h.Key.Contains("/-/ready", StringComparison.Ordinal));

        var grafana = AppHostModelTests.Resource<ContainerResource>(builder, "grafana");
        image = Assert.Single(grafana.Annotations.OfType<ContainerImageAnnotation>());
        Assert.Equal((GrafanaImage, GrafanaTag), (image.Image, image.Tag));
        mounts = grafana.Annotations.OfType<ContainerMountAnnotation>().ToDictionary(m => m.Target);
        Assert.Equal(["/etc/grafana/provisioning", "/var/lib/grafana/dashboards/atsync"], mounts.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(Path.Combine(RepositoryPaths.Root, "ops", "grafana", "provisioning"), Path.TrimEndingDirectorySeparator(mounts["/etc/grafana/provisioning"].Source!));
        Assert.Equal(Path.Combine(RepositoryPaths.Root, "ops", "grafana", "dashboards"), Path.TrimEndingDirectorySeparator(mounts["/var/lib/grafana/dashboards/atsync"].Source!));
        Assert.All(mounts.Values, m => Assert.True(m.IsReadOnly, $"{m.Target} is mounted writable"));
        var environment = await AppHostModelTests.EnvironmentAsync(grafana);
        Assert.Equal("{prometheus.bindings.http.url}", environment["PROMETHEUS_URL"]);
        Assert.Equal("{grafana-admin-password.value}", environment["GF_SECURITY_ADMIN_PASSWORD"]);
        Assert.Equal(["prometheus"], grafana.Annotations.OfType<WaitAnnotation>().Select(w => w.Resource.Name));

        // The compose deployment's exporters are not part of the run mode.
        Assert.DoesNotContain(builder.Resources, r => r.Name is "cadvisor" or "mysqld-exporter");
    }

    [Fact]
    public async Task Before_Prometheus_starts_the_AppHost_writes_where_the_services_listen_as_scrape_targets()
    {
        // The model only: the event is published on the builder's eventing (the one the built application uses), so no
        // application is built and no orchestrator is waited for on disposal (a built, never-started application waits
        // for DCP's cleanup until its dispose timeout).
        await using var builder = await AppHostFactory.RunModeAsync(Settings("true"));
        var ports = new Dictionary<string, int> { ["firehose"] = 45071, ["queueworker"] = 45072 };
        foreach (var (name, port) in ports)
        {
            var endpoint = builder.Resources.Single(r => r.Name == name).Annotations.OfType<EndpointAnnotation>().Single(e => e.Name == "http");
            endpoint.AllocatedEndpoint = new AllocatedEndpoint(endpoint, "localhost", port);
        }
        var prometheus = builder.Resources.Single(r => r.Name == "prometheus");
        var targets = prometheus.Annotations.OfType<ContainerMountAnnotation>().Single(m => m.Target == "/etc/prometheus/targets").Source!;
        foreach (var file in Directory.GetFiles(targets)) File.Delete(file);

        await using var services = new ServiceCollection().BuildServiceProvider();
        await builder.Eventing.PublishAsync(new BeforeResourceStartedEvent(prometheus, services));

        // One file per job of ops/prometheus/prometheus.yml; promtool accepts the configuration with these targets.
        Assert.Equal(["cadvisor.yml", "firehose.yml", "mysqld.yml", "queueworker.yml"], Directory.GetFiles(targets).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Contains("- targets: [\"host.docker.internal:45071\"]", File.ReadAllText(Path.Combine(targets, "firehose.yml")), StringComparison.Ordinal);
        Assert.Contains("- targets: [\"host.docker.internal:45072\"]", File.ReadAllText(Path.Combine(targets, "queueworker.yml")), StringComparison.Ordinal);
        Assert.Contains("[]", File.ReadAllText(Path.Combine(targets, "cadvisor.yml")), StringComparison.Ordinal);
        var check = Directory.CreateTempSubdirectory("atsync-prom-run-");
        try
        {
            File.Copy(Path.Combine(RepositoryPaths.Root, "ops", "prometheus", "prometheus.yml"), Path.Combine(check.FullName, "prometheus.yml"));
            File.Copy(Path.Combine(RepositoryPaths.Root, "ops", "prometheus", "alerts.yml"), Path.Combine(check.FullName, "alerts.yml"));
            var copied = Directory.CreateDirectory(Path.Combine(check.FullName, "targets"));
            foreach (var file in Directory.GetFiles(targets)) File.Copy(file, Path.Combine(copied.FullName, Path.GetFileName(file)));
            var (code, output) = Operations.OpsFiles.Promtool(check.FullName, "check", "config", "prometheus.yml");
            Assert.True(code == 0, output);
        }
        finally
        {
            check.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Publish_mode_always_declares_monitoring_with_cadvisor_for_the_compose_profile()
    {
        var output = Directory.CreateTempSubdirectory("atsync-publish-model-");
        try
        {
            await using var builder = await AppHostFactory.PublishModeAsync(output.FullName, AppHostFactory.ExistingForumSettings());
            // Existing-forum mode has no MySQL container, so no mysqld_exporter (the full stack adds it).
            Assert.Equal(["cadvisor", "grafana", "grafana-admin-password", "prometheus"], MonitoringNames(builder));
            var prometheus = AppHostModelTests.Resource<ContainerResource>(builder, "prometheus");
            Assert.Contains(prometheus.Annotations.OfType<ContainerMountAnnotation>(), m => m.Target == "/prometheus" && m.Type == ContainerMountType.Volume);
            Assert.DoesNotContain(prometheus.Annotations.OfType<ContainerMountAnnotation>(), m => m.Target == "/etc/prometheus/targets");
            var cadvisor = AppHostModelTests.Resource<ContainerResource>(builder, "cadvisor");
            Assert.All(cadvisor.Annotations.OfType<ContainerMountAnnotation>(), m => Assert.True(m.IsReadOnly, $"cadvisor mounts {m.Target} writable"));
            var grafana = AppHostModelTests.Resource<ContainerResource>(builder, "grafana");
            Assert.Contains(grafana.Annotations.OfType<EndpointAnnotation>(), e => e.Name == "http" && e.Port == 3000 && e.TargetPort == 3000 && e.IsExternal);
            Assert.DoesNotContain(prometheus.Annotations.OfType<EndpointAnnotation>(), e => e.IsExternal);
        }
        finally
        {
            output.Delete(recursive: true);
        }
    }

    private static async Task<List<string>> ArgumentsAsync(IResource resource)
    {
        var result = await ExecutionConfigurationBuilder.Create(resource)
            .WithArgumentsConfig()
            .BuildAsync(new DistributedApplicationExecutionContext(DistributedApplicationOperation.Publish), Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        return [.. result.Arguments.Select(a => a.Value)];
    }
}
