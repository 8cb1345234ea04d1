using System.Text.Json;
using System.Text.RegularExpressions;
using AtSync.Tests.Deployment;
using AtSync.Tests.Infrastructure;
using YamlDotNet.RepresentationModel;

namespace AtSync.Tests.Operations;

/// <summary>
/// The compose profile <c>monitoring</c> and the files it mounts fit together: Prometheus's configuration, rules and
/// scrape targets from <c>ops/prometheus</c>; Grafana's provisioning (datasource, dashboard provider) and dashboard
/// from <c>ops/grafana</c>. Grafana is not packaged in Debian, so no test starts it: this checks the provisioning
/// files' shape the way Grafana reads them (apiVersion 1, a Prometheus datasource at the URL the compose file gives,
/// a file provider whose path is where the dashboards are mounted, a dashboard whose datasource variable finds it).
/// </summary>
public sealed partial class MonitoringFilesTests
{
    private static readonly string OpsDir = Path.Combine(RepositoryPaths.Root, "ops");
    private static ComposeFile Compose() => ComposeFile.Load(Path.Combine(RepositoryPaths.Root, "docker-compose.generated.yml"));

    [GeneratedRegex("^[a-z0-9./-]+:[A-Za-z0-9._-]+@sha256:[0-9a-f]{64}$")]
    private static partial Regex TagAndDigest();

    /// <summary>The container path a service mounts a repository folder at, read-only.</summary>
    private static string MountTarget(ComposeService service, string source)
    {
        var mount = Assert.Single(service.Volumes, v => v.Type == "bind" && v.Source == source);
        return mount.Target!;
    }

    [Theory]
    [InlineData("prometheus")]
    [InlineData("grafana")]
    [InlineData("cadvisor")]
    [InlineData("mysqld-exporter")]
    public void Monitoring_images_are_pinned_by_tag_and_digest(string name)
    {
        var image = Compose()[name].Image!;
        Assert.Matches(TagAndDigest(), image);
    }

    [Fact]
    public void Prometheus_mounts_ops_prometheus_and_each_job_finds_a_compose_service_it_may_reach()
    {
        var compose = Compose();
        var prometheus = compose["prometheus"];
        var configDir = MountTarget(prometheus, "./ops/prometheus");
        Assert.Contains($"--config.file={configDir}/prometheus.yml", prometheus.Command);

        var config = OpsFiles.LoadYaml(Path.Combine(OpsFiles.PrometheusDir, "prometheus.yml"));
        var jobs = new List<string>();
        foreach (YamlMappingNode job in (YamlSequenceNode)config["scrape_configs"])
        {
            var name = ((YamlScalarNode)job["job_name"]).Value!;
            jobs.Add(name);
            var files = ((YamlSequenceNode)((YamlMappingNode)((YamlSequenceNode)job["file_sd_configs"])[0])["files"]).Children.Select(f => ((YamlScalarNode)f).Value!).ToList();
            Assert.Equal([$"targets/{name}.yml"], files);
            var targets = new YamlStream();
            targets.Load(new StringReader(File.ReadAllText(Path.Combine(OpsFiles.PrometheusDir, "targets", name + ".yml"))));
            var target = ((YamlScalarNode)((YamlSequenceNode)((YamlMappingNode)((YamlSequenceNode)targets.Documents[0].RootNode)[0])["targets"])[0]).Value!;
            var (host, port) = (target[..target.IndexOf(':')], target[(target.IndexOf(':') + 1)..]);
            // A compose service of that name listens there, and Prometheus waits for it where the service has a health check.
            var service = compose[host];
            Assert.Contains(port, service.Expose);
            Assert.NotEmpty(service.HealthTest);
        }
        Assert.Equal(["firehose", "queueworker", "cadvisor", "mysqld"], jobs);
        Assert.Equal("service_healthy", prometheus.DependsOn["firehose"]);
        Assert.Equal("service_healthy", prometheus.DependsOn["queueworker"]);
    }

    [Fact]
    public void Grafana_provisioning_has_the_prometheus_datasource_at_the_url_the_compose_file_gives()
    {
        var grafana = Compose()["grafana"];
        Assert.Equal("/etc/grafana/provisioning", MountTarget(grafana, "./ops/grafana/provisioning"));

        var file = OpsFiles.LoadYaml(Path.Combine(OpsDir, "grafana", "provisioning", "datasources", "prometheus.yml"));
        Assert.Equal("1", ((YamlScalarNode)file["apiVersion"]).Value);
        var datasource = (YamlMappingNode)Assert.Single(((YamlSequenceNode)file["datasources"]).Children);
        string Field(string key) => ((YamlScalarNode)datasource[key]).Value!;
        Assert.Equal("prometheus", Field("type"));
        Assert.Equal("proxy", Field("access"));
        Assert.Equal("true", Field("isDefault"));
        // Grafana expands $VAR / ${VAR} in provisioning files from its environment; the compose file sets it.
        var variable = Regex.Match(Field("url"), @"^\$\{(?<name>[A-Z_]+)\}$").Groups["name"].Value;
        Assert.Equal("PROMETHEUS_URL", variable);
        Assert.Equal($"http://prometheus:{9090}", grafana.Environment[variable]);
        Assert.Equal("service_healthy", grafana.DependsOn["prometheus"]);
    }

    [Fact]
    public void Grafana_dashboard_provider_reads_the_folder_the_dashboards_are_mounted_at_and_the_dashboard_uses_the_datasource()
    {
        var grafana = Compose()["grafana"];
        var mounted = MountTarget(grafana, "./ops/grafana/dashboards");

        var file = OpsFiles.LoadYaml(Path.Combine(OpsDir, "grafana", "provisioning", "dashboards", "atsync.yml"));
        Assert.Equal("1", ((YamlScalarNode)file["apiVersion"]).Value);
        var provider = (YamlMappingNode)Assert.Single(((YamlSequenceNode)file["providers"]).Children);
        Assert.Equal("file", ((YamlScalarNode)provider["type"]).Value);
        Assert.Equal(mounted, ((YamlScalarNode)((YamlMappingNode)provider["options"])["path"]).Value);
        Assert.Equal(["atsync.json"], Directory.GetFiles(Path.Combine(OpsDir, "grafana", "dashboards")).Select(Path.GetFileName));

        using var dashboard = JsonDocument.Parse(File.ReadAllText(OpsFiles.DashboardFile));
        var root = dashboard.RootElement;
        Assert.False(string.IsNullOrEmpty(root.GetProperty("uid").GetString()));
        var variable = Assert.Single(root.GetProperty("templating").GetProperty("list").EnumerateArray(), v => v.GetProperty("type").GetString() == "datasource");
        Assert.Equal("prometheus", variable.GetProperty("query").GetString());
        var name = variable.GetProperty("name").GetString();
        foreach (var panel in root.GetProperty("panels").EnumerateArray())
        {
            foreach (var source in new[] { panel }.Concat(panel.GetProperty("targets").EnumerateArray()))
            {
                var datasource = source.GetProperty("datasource");
                Assert.Equal("prometheus", datasource.GetProperty("type").GetString());
                Assert.Equal($"${{{name}}}", datasource.GetProperty("uid").GetString());
            }
        }
    }
}
