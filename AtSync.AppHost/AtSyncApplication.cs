#pragma warning disable ASPIREDOCKERFILEBUILDER001 // WithDockerfileBaseImage: evaluation API of Aspire 13.1

namespace AtSync.AppHost;

/// <summary>Declares MySQL, phpBB, the Firehose and the QueueWorker, and the Docker Compose environment.</summary>
internal static class AtSyncApplication
{
    public const string MySqlImageTag = "8.4.7";
    public const string DatabaseName = "phpbb";
    public const string DatabaseUser = "atsync";
    public const string TablePrefix = "phpbb_";
    /// <summary>Port every HTTP server listens on inside its container (non-root: above 1024).</summary>
    public const int ContainerHttpPort = 8080;
    /// <summary>Host port of the forum in the Docker Compose deployment.</summary>
    public const int PhpbbPublishedPort = 8080;
    /// <summary>Runtime base of the .NET service images: Alpine's busybox gives the compose health check its wget.</summary>
    public const string ServiceBaseImage = "mcr.microsoft.com/dotnet/aspnet:10.0-alpine3.22";
    public const string DashboardImage = "mcr.microsoft.com/dotnet/aspire-dashboard";
    public const string DashboardImageTag = "13.1.0";
    public const int DashboardPublishedPort = 18888;

    public static void AddAtSync(this IDistributedApplicationBuilder builder)
    {
        var parameters = AtSyncParameters.Add(builder);
        var compose = new ComposeDeployment(parameters);

        builder.AddDockerComposeEnvironment("compose")
            .WithDashboard(dashboard => dashboard
                .WithImage(DashboardImage, DashboardImageTag)
                .WithHostPort(DashboardPublishedPort)
                .PublishAsDockerComposeService(compose.Dashboard))
            .ConfigureEnvFile(compose.DescribeVariables);

        // MySQL: root only for administration; phpBB and the services use the `atsync` account, which the image's
        // entrypoint creates on first start (MYSQL_USER/MYSQL_PASSWORD/MYSQL_DATABASE) and init.sql narrows.
        var mysql = builder.AddMySql("mysql", parameters.MySqlRootPassword)
            .WithImageTag(MySqlImageTag)
            .WithDataVolume("atsync-mysql-data")
            .WithBindMount(ComposeDeployment.MySqlConfigSource, ComposeDeployment.MySqlConfigTarget, isReadOnly: true)
            .WithBindMount(ComposeDeployment.MySqlInitSource, ComposeDeployment.MySqlInitTarget, isReadOnly: true)
            .WithEnvironment("MYSQL_DATABASE", DatabaseName)
            .WithEnvironment("MYSQL_USER", DatabaseUser)
            .WithEnvironment("MYSQL_PASSWORD", parameters.MySqlPassword)
            .PublishAsDockerComposeService(compose.MySql);

        var database = mysql.AddDatabase("phpbb-db", DatabaseName);

        // ConnectionStrings__phpbb for the services: the non-root account, never root.
        var connectionString = builder.AddConnectionString(DatabaseName, ReferenceExpression.Create(
            $"Server={mysql.Resource.Host};Port={mysql.Resource.Port};User ID={DatabaseUser};Password={parameters.MySqlPassword.Resource};Database={DatabaseName}"));

        builder.AddDockerfile("forum", "../docker", "phpbb/Dockerfile")
            .WithHttpEndpoint(targetPort: ContainerHttpPort, name: "http")
            .WithEndpoint("http", endpoint =>
            {
                endpoint.IsExternal = true;
                if (builder.ExecutionContext.IsPublishMode)
                {
                    endpoint.Port = PhpbbPublishedPort;
                }
            })
            .WithEnvironment("PHPBB_DB_HOST", mysql.Resource.Host)
            .WithEnvironment("PHPBB_DB_PORT", mysql.Resource.Port)
            .WithEnvironment("PHPBB_DB_NAME", DatabaseName)
            .WithEnvironment("PHPBB_DB_USER", DatabaseUser)
            .WithEnvironment("PHPBB_DB_PASSWORD", parameters.MySqlPassword)
            .WithEnvironment("PHPBB_TABLE_PREFIX", TablePrefix)
            .WithEnvironment("PHPBB_ADMIN_PASSWORD", parameters.PhpbbAdminPassword)
            .WithEnvironment("PHPBB_ADMIN_EMAIL", parameters.PhpbbAdminEmail)
            .WithVolume("atsync-phpbb-files", "/var/lib/phpbb")
            .WaitFor(database)
            .WithHttpHealthCheck("/healthz.php")
            .PublishAsDockerComposeService(compose.Phpbb);

        builder.AddProject<Projects.AtSync_Firehose>("firehose")
            .WithAtSyncService(connectionString, database, parameters)
            .WithEnvironment("RELAY_URL", parameters.RelayUrl)
            .WithEnvironment("LABELER_DID", parameters.LabelerDid)
            .WithEnvironment("LABELER_URL", parameters.LabelerUrl)
            .PublishAsDockerComposeService(compose.Firehose);

        builder.AddProject<Projects.AtSync_QueueWorker>("queueworker")
            .WithAtSyncService(connectionString, database, parameters)
            .WithEnvironment("FORUM_PDS_ACCESS_TOKEN", parameters.ForumPdsAccessToken)
            .WithEnvironment("TOKEN_ENCRYPTION_KEYS", parameters.TokenEncryptionKeys)
            .WithEnvironment("TOKEN_ENCRYPTION_KEY_VERSION", parameters.TokenEncryptionKeyVersion)
            .PublishAsDockerComposeService(compose.QueueWorker);
    }

    /// <summary>What both .NET services share: database, forum identity, log level, health, image base.</summary>
    private static IResourceBuilder<ProjectResource> WithAtSyncService(
        this IResourceBuilder<ProjectResource> service,
        IResourceBuilder<ConnectionStringResource> connectionString,
        IResourceBuilder<MySqlDatabaseResource> database,
        AtSyncParameters parameters)
    {
        if (service.ApplicationBuilder.ExecutionContext.IsPublishMode)
        {
            // A fixed port inside the container (HTTP_PORTS), so the compose health check knows where /health is.
            // Aspire gives a web project an https endpoint too, on the same target port (it never listens on it).
            service.WithEndpoint("http", endpoint => endpoint.TargetPort = ContainerHttpPort);
            service.WithEndpoint("https", endpoint => endpoint.TargetPort = ContainerHttpPort);
            service.WithDockerfileBaseImage(runtimeImage: ServiceBaseImage);
        }

        return service
            .WithReference(connectionString)
            .WaitFor(database)
            .WithEnvironment("PHPBB_TABLE_PREFIX", TablePrefix)
            .WithEnvironment("FORUM_DID", parameters.ForumDid)
            .WithEnvironment("FORUM_PDS_URL", parameters.ForumPdsUrl)
            .WithEnvironment("LOG_LEVEL", parameters.LogLevel)
            .WithHttpHealthCheck("/health");
    }
}
