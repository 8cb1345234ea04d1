using Aspire.Hosting.Docker.Resources.ComposeNodes;

namespace AtSync.AppHost;

/// <summary>
/// The compose shape of each monitoring service (Monitoring.cs) beyond what every service gets
/// (<see cref="ComposeDeployment.Monitor"/>): bind mounts named from the repository root, users, health checks.
/// </summary>
internal static class MonitoringCompose
{
    /// <summary>Bind mounts by container path: the repository's ops/ folders, and cAdvisor's fixed host paths.</summary>
    private static readonly Dictionary<string, string> SourcesByTarget = new()
    {
        [Monitoring.PrometheusConfigTarget] = "./ops/prometheus",
        [Monitoring.GrafanaProvisioningTarget] = "./ops/grafana/provisioning",
        [Monitoring.GrafanaDashboardsTarget] = "./ops/grafana/dashboards",
        ["/rootfs"] = "/",
        ["/var/run"] = "/var/run",
        ["/sys"] = "/sys",
        ["/var/lib/docker"] = "/var/lib/docker",
        ["/dev/disk"] = "/dev/disk",
    };

    /// <summary>The images' own users: Prometheus runs as nobody, Grafana as grafana (472), the exporter as nobody.</summary>
    public static void Prometheus(Service service)
    {
        Sources(service);
        service.User = "65534:65534";
        // busybox wget is in the image; /-/ready answers once the TSDB is open and the configuration loaded.
        service.Healthcheck = ComposeDeployment.Check(["CMD", "wget", "--quiet", "--spider", $"http://127.0.0.1:{Monitoring.PrometheusPort}/-/ready"], "30s");
    }

    public static void Grafana(Service service)
    {
        Sources(service);
        service.User = "472:0";
        service.Healthcheck = ComposeDeployment.Check(["CMD", "wget", "--quiet", "--spider", $"http://127.0.0.1:{Monitoring.GrafanaPort}/api/health"], "60s");
    }

    public static void Cadvisor(Service service)
    {
        Sources(service);
        // cAdvisor reads every container's cgroup and the kernel log: root and privileged, as its documentation runs it.
        service.Privileged = true;
        service.Devices = ["/dev/kmsg"];
        service.Healthcheck = ComposeDeployment.Check(["CMD", "wget", "--quiet", "--spider", $"http://127.0.0.1:{Monitoring.CadvisorPort}/healthz"], "30s");
    }

    public static void MysqldExporter(Service service)
    {
        service.User = "65534:65534";
        service.Healthcheck = ComposeDeployment.Check(["CMD", "wget", "--quiet", "--spider", $"http://127.0.0.1:{Monitoring.MysqldExporterPort}/"], "30s");
    }

    private static void Sources(Service service)
    {
        foreach (var volume in service.Volumes.Where(v => v.Type == "bind" && v.Target is not null && SourcesByTarget.ContainsKey(v.Target)))
        {
            volume.Source = SourcesByTarget[volume.Target!];
        }
    }
}
