namespace AtSync.AppHost;

/// <summary>
/// <c>aspire publish</c>: the Docker Compose environment with its dashboard, and each resource as a compose service
/// (<see cref="ComposeDeployment"/>), with the front door before phpBB and the linking service (<see cref="FrontDoor"/>).
/// In existing-forum mode the file holds the three services and the dashboard only.
/// Needs Aspire.Hosting.Docker.
/// </summary>
internal static class ComposePublishing
{
    public const string DashboardImage = "mcr.microsoft.com/dotnet/aspire-dashboard";
    public const string DashboardImageTag = "13.6.5";
    public const int DashboardPublishedPort = 18888;

    public static void Add(
        IDistributedApplicationBuilder builder,
        AtSyncParameters parameters,
        ForumDatabase database,
        IResourceBuilder<ProjectResource> firehose,
        IResourceBuilder<ProjectResource> queueWorker,
        IResourceBuilder<ProjectResource> linking,
        MonitoringResources? monitoring)
    {
        _ = database;
        builder.AddDockerComposeEnvironment("compose")
            .WithDashboard(dashboard => dashboard
                .WithImage(DashboardImage, DashboardImageTag)
                .WithHostPort(DashboardPublishedPort)
                .PublishAsDockerComposeService((resource, service) => ComposeDeployment.Dashboard(service)))
            .ConfigureEnvFile(ComposeDeployment.DescribeVariables);

        firehose.PublishAsDockerComposeService((resource, service) => ComposeDeployment.DotNetService(parameters, service, "firehose"));
        queueWorker.PublishAsDockerComposeService((resource, service) => ComposeDeployment.DotNetService(parameters, service, "queueworker"));
        linking.PublishAsDockerComposeService((resource, service) => ComposeDeployment.DotNetService(parameters, service, "linking"));
        if (builder.ExecutionContext.IsPublishMode && database.Forum is { } forum)
        {
            FrontDoor.Add(builder, forum, linking);
        }

        // Prometheus, Grafana and the exporters: behind the compose profile `monitoring` (Monitoring.cs).
        if (monitoring is not null)
        {
            monitoring.Prometheus.PublishAsDockerComposeService((resource, service) => ComposeDeployment.Monitor(service, "prometheus", MonitoringCompose.Prometheus));
            monitoring.Grafana.PublishAsDockerComposeService((resource, service) => ComposeDeployment.Monitor(service, "grafana", MonitoringCompose.Grafana));
            monitoring.Cadvisor?.PublishAsDockerComposeService((resource, service) => ComposeDeployment.Monitor(service, "cadvisor", MonitoringCompose.Cadvisor));
            monitoring.MysqldExporter?.PublishAsDockerComposeService((resource, service) => ComposeDeployment.Monitor(service, "mysqld-exporter", MonitoringCompose.MysqldExporter));
        }
    }
}
