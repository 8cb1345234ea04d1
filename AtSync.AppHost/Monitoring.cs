using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Configuration;

namespace AtSync.AppHost;

/// <summary>
/// Optional monitoring, the way Aspire's metrics sample adds it: a Prometheus container with <c>ops/prometheus</c>
/// (configuration and alert rules) mounted read-only, scraping both services' <c>/metrics</c>, and a Grafana container
/// with <c>ops/grafana</c> (provisioning and the dashboard) mounted read-only and Prometheus as its datasource.
/// <list type="bullet">
/// <item><b>run</b> (<c>dotnet run</c>): only when <c>Parameters:monitoring</c> is <c>true</c> (the <c>monitoring</c>
/// launch profile sets it). Prometheus reaches the services on the host through <see cref="ContainerHostName"/>: the
/// AppHost writes their addresses as file-based scrape targets (<c>ops/prometheus/targets/</c> is replaced by a
/// generated folder).</item>
/// <item><b>publish</b> (<c>aspire publish</c>): always declared, and gated in the compose file by the compose profile
/// <c>monitoring</c> (<c>docker compose --profile monitoring up -d</c>), together with cAdvisor (container restarts
/// and memory against limits) and, in the full stack, mysqld_exporter (MySQL connections): the series the alert rules
/// need. The compose shape is FullStack/ComposeDeployment.cs.</item>
/// </list>
/// Images are pinned by tag and digest.
/// </summary>
internal static class Monitoring
{
    public const string ParameterKey = "Parameters:monitoring";
    public const string ComposeProfile = "monitoring";

    public const string PrometheusImage = "prom/prometheus";
    public const string PrometheusTag = "v3.5.0@sha256:63805ebb8d2b3920190daf1cb14a60871b16fd38bed42b857a3182bc621f4996";
    public const string GrafanaImage = "grafana/grafana";
    public const string GrafanaTag = "12.2.0@sha256:74144189b38447facf737dfd0f3906e42e0776212bf575dc3334c3609183adf7";
    public const string CadvisorImage = "gcr.io/cadvisor/cadvisor";
    public const string CadvisorTag = "v0.52.1@sha256:f40e65878e25c2e78ea037f73a449527a0fb994e303dc3e34cb6b187b4b91435";
    public const string MysqldExporterImage = "prom/mysqld-exporter";
    public const string MysqldExporterTag = "v0.19.0@sha256:eacb4b18e2ec1e0abdf2d64851b68526c964f6d9cb3e9458fb5d5f5062ea94c1";

    public const int PrometheusPort = 9090;
    public const int GrafanaPort = 3000;
    public const int CadvisorPort = 8080;
    public const int MysqldExporterPort = 9104;

    // Relative to the AppHost project (Aspire resolves bind mounts from there); the compose file names them from the
    // repository root (FullStack/ComposeDeployment.cs).
    public const string PrometheusConfigSource = "../ops/prometheus";
    public const string PrometheusConfigTarget = "/etc/prometheus";
    public const string PrometheusTargetsTarget = "/etc/prometheus/targets";
    public const string GrafanaProvisioningSource = "../ops/grafana/provisioning";
    public const string GrafanaProvisioningTarget = "/etc/grafana/provisioning";
    public const string GrafanaDashboardsSource = "../ops/grafana/dashboards";
    public const string GrafanaDashboardsTarget = "/var/lib/grafana/dashboards/atsync";

    /// <summary>How a container reaches a process on the host in Aspire's run mode (Aspire's own default name).</summary>
    public const string ContainerHostName = "host.docker.internal";

    /// <summary>The jobs of ops/prometheus/prometheus.yml, each reading <c>targets/&lt;job&gt;.yml</c>.</summary>
    public static readonly string[] ScrapeJobs = ["firehose", "queueworker", "cadvisor", "mysqld"];

    public static bool Enabled(IDistributedApplicationBuilder builder) =>
        builder.ExecutionContext.IsPublishMode
        || (bool.TryParse(AtSyncParameters.Configured(builder.Configuration, ParameterKey), out var on) && on);

    /// <summary>Declares the monitoring containers (null when monitoring is off).</summary>
    public static MonitoringResources? Add(IDistributedApplicationBuilder builder, ForumDatabase database,
        IResourceBuilder<ProjectResource> firehose, IResourceBuilder<ProjectResource> queueWorker)
    {
        if (!Enabled(builder))
        {
            return null;
        }

        var prometheus = builder.AddContainer("prometheus", PrometheusImage, PrometheusTag)
            .WithBindMount(PrometheusConfigSource, PrometheusConfigTarget, isReadOnly: true)
            .WithArgs($"--config.file={PrometheusConfigTarget}/prometheus.yml", "--storage.tsdb.path=/prometheus")
            .WithHttpEndpoint(targetPort: PrometheusPort, name: "http")
            .WithHttpHealthCheck("/-/ready")
            .WaitFor(firehose)
            .WaitFor(queueWorker);
        if (builder.ExecutionContext.IsRunMode)
        {
            // The services run on the host here: scrape them where Aspire put them (written just before Prometheus starts).
            var targets = RunTargetsDirectory(builder);
            prometheus.WithBindMount(targets.FullName, PrometheusTargetsTarget, isReadOnly: true);
            builder.Eventing.Subscribe<BeforeResourceStartedEvent>(prometheus.Resource, (_, _) =>
            {
                WriteRunTargets(targets, builder.Configuration, firehose.Resource, queueWorker.Resource);
                return Task.CompletedTask;
            });
        }
        else
        {
            prometheus.WithVolume("atsync-prometheus-data", "/prometheus");
        }

        var adminPassword = builder.AddParameter("grafana-admin-password", secret: true)
            .WithDescription("Password of Grafana's `admin` account (monitoring).");
        var grafana = builder.AddContainer("grafana", GrafanaImage, GrafanaTag)
            .WithBindMount(GrafanaProvisioningSource, GrafanaProvisioningTarget, isReadOnly: true)
            .WithBindMount(GrafanaDashboardsSource, GrafanaDashboardsTarget, isReadOnly: true)
            .WithEnvironment("PROMETHEUS_URL", prometheus.GetEndpoint("http"))
            .WithEnvironment("GF_SECURITY_ADMIN_PASSWORD", adminPassword)
            .WithEnvironment("GF_ANALYTICS_REPORTING_ENABLED", "false")
            .WithEnvironment("GF_ANALYTICS_CHECK_FOR_UPDATES", "false")
            .WithHttpEndpoint(port: builder.ExecutionContext.IsPublishMode ? GrafanaPort : null, targetPort: GrafanaPort, name: "http")
            .WithHttpHealthCheck("/api/health")
            .WaitFor(prometheus);
        if (builder.ExecutionContext.IsPublishMode)
        {
            // The one monitoring port an operator opens: Grafana's, on the host (compose `ports`); Prometheus stays internal.
            grafana.WithEndpoint("http", endpoint => endpoint.IsExternal = true);
            grafana.WithVolume("atsync-grafana-data", "/var/lib/grafana");
        }

        if (!builder.ExecutionContext.IsPublishMode)
        {
            return new MonitoringResources(prometheus, grafana, null, null);
        }

        // The compose deployment's exporters: cAdvisor reads the Docker host's cgroups (read-only mounts).
        var cadvisor = builder.AddContainer("cadvisor", CadvisorImage, CadvisorTag)
            .WithBindMount("/", "/rootfs", isReadOnly: true)
            .WithBindMount("/var/run", "/var/run", isReadOnly: true)
            .WithBindMount("/sys", "/sys", isReadOnly: true)
            .WithBindMount("/var/lib/docker", "/var/lib/docker", isReadOnly: true)
            .WithBindMount("/dev/disk", "/dev/disk", isReadOnly: true)
            .WithArgs("--docker_only=true", "--housekeeping_interval=15s")
            .WithHttpEndpoint(targetPort: CadvisorPort, name: "http");

        IResourceBuilder<ContainerResource>? exporter = null;
        if (database.Server is { } server && database.AccountPassword is { } password)
        {
            // Global status and variables only (threads connected, max_connections): nothing the `atsync` account
            // cannot read, no PROCESS or REPLICATION privilege needed.
            exporter = builder.AddContainer("mysqld-exporter", MysqldExporterImage, MysqldExporterTag)
                .WithArgs(context =>
                {
                    context.Args.Add(ReferenceExpression.Create($"--mysqld.address={server.GetEndpoint("tcp").Property(EndpointProperty.HostAndPort)}"));
                    context.Args.Add($"--mysqld.username={database.AccountName}");
                    foreach (var collector in (string[])["slave_status", "info_schema.innodb_cmp", "info_schema.innodb_cmpmem", "info_schema.query_response_time"])
                    {
                        context.Args.Add($"--no-collect.{collector}");
                    }
                })
                .WithEnvironment("MYSQLD_EXPORTER_PASSWORD", password)
                .WithHttpEndpoint(targetPort: MysqldExporterPort, name: "http")
                .WaitFor(server);
        }
        return new MonitoringResources(prometheus, grafana, cadvisor, exporter);
    }

    /// <summary>Where the run mode's scrape targets are written: one folder per AppHost, under the temp folder.</summary>
    public static DirectoryInfo RunTargetsDirectory(IDistributedApplicationBuilder builder)
    {
        var key = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(builder.AppHostDirectory)))[..12].ToLowerInvariant();
        return Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), $"atsync-apphost-monitoring-{key}", "targets"));
    }

    /// <summary>
    /// Prometheus file_sd target lists for the run mode: the services at the host ports Aspire allocated; the
    /// compose deployment's exporters are not part of the run mode (empty lists, so no target is down).
    /// </summary>
    public static void WriteRunTargets(DirectoryInfo directory, IConfiguration configuration, ProjectResource firehose, ProjectResource queueWorker)
    {
        var host = configuration["AppHost:ContainerHostname"] is { Length: > 0 } configured ? configured : ContainerHostName;
        var ports = new Dictionary<string, int?>
        {
            ["firehose"] = firehose.GetEndpoint("http").Port,
            ["queueworker"] = queueWorker.GetEndpoint("http").Port,
        };
        foreach (var job in ScrapeJobs)
        {
            var text = ports.TryGetValue(job, out var port) && port is { } p
                ? $"# Written by the AppHost (run mode) before Prometheus starts.\n- targets: [\"{host}:{p}\"]\n"
                : "# Not part of the AppHost's run mode.\n[]\n";
            File.WriteAllText(Path.Combine(directory.FullName, job + ".yml"), text);
        }
    }
}

/// <summary>The monitoring containers (cAdvisor and mysqld_exporter: publish mode only; the exporter: full stack only).</summary>
internal sealed record MonitoringResources(
    IResourceBuilder<ContainerResource> Prometheus,
    IResourceBuilder<ContainerResource> Grafana,
    IResourceBuilder<ContainerResource>? Cadvisor,
    IResourceBuilder<ContainerResource>? MysqldExporter);
