#pragma warning disable ASPIREDOCKERFILEBUILDER001 // WithDockerfileBaseImage: evaluation API of Aspire 13.6

namespace AtSync.AppHost;

/// <summary>
/// The AtSync system: the forum's database (an existing forum's, or the full stack's MySQL and phpBB containers), the
/// Firehose and the QueueWorker, and how they are published.
/// </summary>
internal static class AtSyncApplication
{
    public const string TablePrefix = "phpbb_";
    /// <summary>Port every HTTP server listens on inside its container (non-root: above 1024).</summary>
    public const int ContainerHttpPort = 8080;
    /// <summary>Runtime base of the .NET service images: Alpine's busybox gives the compose health check its wget.</summary>
    public const string ServiceBaseImage = "mcr.microsoft.com/dotnet/aspnet:10.0-alpine3.22";

    public static void AddAtSync(this IDistributedApplicationBuilder builder)
    {
        var parameters = AtSyncParameters.Add(builder);
        var database = ForumDatabase.Add(builder, parameters);

        var firehose = builder.AddProject<Projects.AtSync_Firehose>("firehose")
            .WithAtSyncService(database, parameters)
            .WithEnvironment("RELAY_URL", parameters.RelayUrl)
            .WithEnvironment("LABELER_DID", parameters.LabelerDid)
            .WithEnvironment("LABELER_URL", parameters.LabelerUrl)
            .WithEnvironment("PLC_DIRECTORY_URL", parameters.PlcDirectoryUrl)
            .WithEnvironment("IDENTITY_ALLOWED_HOSTS", parameters.IdentityAllowedHosts);

        var queueWorker = builder.AddProject<Projects.AtSync_QueueWorker>("queueworker")
            .WithAtSyncService(database, parameters)
            .WithEnvironment("FORUM_APP_PASSWORD", parameters.ForumAppPassword)
            .WithEnvironment("TOKEN_ENCRYPTION_KEYS", parameters.TokenEncryptionKeys)
            .WithEnvironment("TOKEN_ENCRYPTION_KEY_VERSION", parameters.TokenEncryptionKeyVersion);

        // Optional Prometheus and Grafana (Monitoring.cs): Parameters:monitoring=true in run mode, a compose profile when published.
        var monitoring = Monitoring.Add(builder, database, firehose, queueWorker);

#if ATSYNC_FULL_STACK
        // `aspire publish`: a Docker Compose file (FullStack/ComposePublishing.cs; needs Aspire.Hosting.Docker).
        ComposePublishing.Add(builder, parameters, database, firehose, queueWorker, monitoring);
#else
        _ = monitoring;
#endif
    }

    /// <summary>What both .NET services share: database, forum identity, log level, health, image base.</summary>
    private static IResourceBuilder<ProjectResource> WithAtSyncService(
        this IResourceBuilder<ProjectResource> service, ForumDatabase database, AtSyncParameters parameters)
    {
        if (service.ApplicationBuilder.ExecutionContext.IsPublishMode)
        {
            // A fixed port inside the container (HTTP_PORTS), so the compose health check knows where /health is.
            // Aspire gives a web project an https endpoint too, on the same target port (it never listens on it).
            service.WithEndpoint("http", endpoint => endpoint.TargetPort = ContainerHttpPort);
            service.WithEndpoint("https", endpoint => endpoint.TargetPort = ContainerHttpPort);
            service.WithDockerfileBaseImage(runtimeImage: ServiceBaseImage);
        }

        service.WithReference(database.ConnectionString);
        if (database.ReadyWhenHealthy is { } ready)
        {
            service.WaitFor(ready);
        }

        return service
            .WithEnvironment("PHPBB_TABLE_PREFIX", TablePrefix)
            .WithEnvironment("FORUM_DID", parameters.ForumDid)
            .WithEnvironment("FORUM_PDS_URL", parameters.ForumPdsUrl)
            .WithEnvironment("LOG_LEVEL", parameters.LogLevel)
            .WithHttpHealthCheck("/health");
    }
}
