#pragma warning disable ASPIREDOCKERFILEBUILDER001 // WithDockerfileBaseImage: evaluation API of Aspire 13.6

namespace AtSync.AppHost;

/// <summary>
/// The AtSync system: the forum's database (an existing forum's, or the full stack's MySQL and phpBB containers), the
/// Firehose, the QueueWorker and the linking service, and how they are published (the full stack's front door:
/// FullStack/FrontDoor.cs).
/// </summary>
internal static class AtSyncApplication
{
    public const string TablePrefix = "phpbb_";
    /// <summary>Port phpBB's Apache listens on inside its container (non-root: above 1024).</summary>
    public const int ContainerHttpPort = 8080;
    /// <summary>
    /// Each .NET service's own port inside its container (HTTP_PORTS): distinct, so that a host that runs the containers
    /// with host networking needs no port changes (8080 is phpBB's).
    /// </summary>
    public const int FirehoseHttpPort = 8081;
    public const int QueueWorkerHttpPort = 8082;
    public const int LinkingHttpPort = 8083;
    /// <summary>The path phpBB's origin gives the linking service (the front door sends it there).</summary>
    public const string LinkingPath = "/atproto/";
    /// <summary>Runtime base of the .NET service images: Alpine's busybox gives the compose health check its wget.</summary>
    public const string ServiceBaseImage = "mcr.microsoft.com/dotnet/aspnet:10.0-alpine3.22";

    public static void AddAtSync(this IDistributedApplicationBuilder builder)
    {
        var parameters = AtSyncParameters.Add(builder);
        var database = ForumDatabase.Add(builder, parameters);

        var firehose = builder.AddProject<Projects.AtSync_Firehose>("firehose")
            .WithAtSyncService(database, parameters, FirehoseHttpPort, forumIdentity: true)
            .WithEnvironment("RELAY_URL", parameters.RelayUrl)
            .WithEnvironment("LABELER_DID", parameters.LabelerDid)
            .WithEnvironment("LABELER_URL", parameters.LabelerUrl)
            .WithEnvironment("PLC_DIRECTORY_URL", parameters.PlcDirectoryUrl)
            .WithEnvironment("IDENTITY_ALLOWED_HOSTS", parameters.IdentityAllowedHosts);

        // Forum members link their AT identity here (README: Linking); phpBB's origin serves it under /atproto/.
        var linking = builder.AddProject<Projects.AtSync_Linking>("linking")
            .WithAtSyncService(database, parameters, LinkingHttpPort, forumIdentity: false)
            .WithTokenCipher(parameters)
            .WithEnvironment("PLC_DIRECTORY_URL", parameters.PlcDirectoryUrl)
            .WithEnvironment("IDENTITY_ALLOWED_HOSTS", parameters.IdentityAllowedHosts);
        var publicUrl = LinkingPublicUrl(builder, parameters, linking);
        linking.WithOAuthClient(parameters, publicUrl);

        var queueWorker = builder.AddProject<Projects.AtSync_QueueWorker>("queueworker")
            .WithAtSyncService(database, parameters, QueueWorkerHttpPort, forumIdentity: true)
            .WithEnvironment("FORUM_APP_PASSWORD", parameters.ForumAppPassword)
            .WithEnvironment("FORUM_HANDLE", parameters.ForumHandle)
            .WithTokenCipher(parameters)
            // A refresh must come from the client the session was issued to: the linking service's.
            .WithOAuthClient(parameters, publicUrl);

        // Optional Prometheus and Grafana (Monitoring.cs): Parameters:monitoring=true in run mode, a compose profile when published.
        var monitoring = Monitoring.Add(builder, database, firehose, queueWorker);

#if ATSYNC_FULL_STACK
        // `aspire publish`: a Docker Compose file (FullStack/ComposePublishing.cs; needs Aspire.Hosting.Docker).
        ComposePublishing.Add(builder, parameters, database, firehose, queueWorker, linking, monitoring);
#else
        _ = monitoring;
#endif
    }

    /// <summary>
    /// <c>LINKING_PUBLIC_URL</c>: the <c>linking-public-url</c> parameter when it is set, and always when publishing (the
    /// front door's https origin); under <c>dotnet run</c> without it, the linking service's own endpoint on
    /// 127.0.0.1 (AT OAuth's loopback development client; phpBB's cookies on 127.0.0.1 reach every port).
    /// </summary>
    private static ReferenceExpression LinkingPublicUrl(IDistributedApplicationBuilder builder, AtSyncParameters parameters, IResourceBuilder<ProjectResource> linking)
    {
        if (builder.ExecutionContext.IsPublishMode || AtSyncParameters.Configured(builder.Configuration, "Parameters:linking-public-url") is not null)
        {
            return ReferenceExpression.Create($"{parameters.LinkingPublicUrl.Resource}");
        }
        var port = linking.GetEndpoint("http").Property(EndpointProperty.Port);
        return ReferenceExpression.Create($"http://127.0.0.1:{port}{LinkingPath}");
    }

    /// <summary>
    /// What every .NET service shares: database, table prefix, log level, health, image base; and for the Firehose and
    /// the QueueWorker the forum's own DID and PDS.
    /// </summary>
    private static IResourceBuilder<ProjectResource> WithAtSyncService(
        this IResourceBuilder<ProjectResource> service, ForumDatabase database, AtSyncParameters parameters, int containerPort, bool forumIdentity)
    {
        if (service.ApplicationBuilder.ExecutionContext.IsPublishMode)
        {
            // A fixed port inside the container (HTTP_PORTS), so the compose health check knows where /health is.
            // Aspire gives a web project an https endpoint too, on the same target port (it never listens on it).
            service.WithEndpoint("http", endpoint => endpoint.TargetPort = containerPort);
            service.WithEndpoint("https", endpoint => endpoint.TargetPort = containerPort);
            service.WithDockerfileBaseImage(runtimeImage: ServiceBaseImage);
        }

        service.WithReference(database.ConnectionString);
        if (database.ReadyWhenHealthy is { } ready)
        {
            service.WaitFor(ready);
        }

        service.WithEnvironment("PHPBB_TABLE_PREFIX", TablePrefix);
        if (forumIdentity)
        {
            service
                .WithEnvironment("FORUM_DID", parameters.ForumDid)
                .WithEnvironment("FORUM_PDS_URL", parameters.ForumPdsUrl);
        }
        return service
            .WithEnvironment("LOG_LEVEL", parameters.LogLevel)
            .WithHttpHealthCheck("/health");
    }

    /// <summary>The token cipher's keys (docs/design.md: tokens at rest): whoever reads or writes stored sessions.</summary>
    private static IResourceBuilder<ProjectResource> WithTokenCipher(this IResourceBuilder<ProjectResource> service, AtSyncParameters parameters) =>
        service
            .WithEnvironment("TOKEN_ENCRYPTION_KEYS", parameters.TokenEncryptionKeys)
            .WithEnvironment("TOKEN_ENCRYPTION_KEY_VERSION", parameters.TokenEncryptionKeyVersion);

    /// <summary>AtSync as one AT OAuth client (AtSync.Core/Settings/OAuthClientConfiguration.cs): its URL and optional key.</summary>
    private static IResourceBuilder<ProjectResource> WithOAuthClient(this IResourceBuilder<ProjectResource> service, AtSyncParameters parameters, ReferenceExpression publicUrl) =>
        service
            .WithEnvironment("LINKING_PUBLIC_URL", publicUrl)
            .WithEnvironment("OAUTH_CLIENT_KEY", parameters.OAuthClientKey);
}
