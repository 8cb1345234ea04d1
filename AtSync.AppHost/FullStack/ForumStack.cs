namespace AtSync.AppHost;

/// <summary>
/// The full stack's forum: MySQL (data volume, <c>docker/</c> config) and the phpBB container, with their own secret
/// parameters. Declared when no existing forum is configured (<see cref="ForumDatabase"/>); needs Aspire.Hosting.MySql.
/// </summary>
internal static class ForumStack
{
    public const string MySqlImageTag = "8.4.7";
    public const string DatabaseName = "phpbb";
    public const string DatabaseUser = "atsync";
    /// <summary>mysqld's command line: the settings AtSync cannot run without (one home: docker/mysqld.args).</summary>
    public const string MySqlArgumentsSource = "../docker/mysqld.args";
    public const string DefaultAdminEmail = "admin@example.com";

    public static ForumDatabase Add(IDistributedApplicationBuilder builder, AtSyncParameters parameters)
    {
        var mySqlRootPassword = builder.AddParameter("mysql-root-password", secret: true)
            .WithDescription("Password of MySQL's root account (administration only; the services never use it).");
        var mySqlPassword = builder.AddParameter("mysql-password", secret: true)
            .WithDescription("Password of the `atsync` MySQL account that phpBB and both services use.");
        var adminPassword = builder.AddParameter("phpbb-admin-password", secret: true)
            .WithDescription("Password of the phpBB administrator created by the unattended install.");
        var adminEmail = AtSyncParameters.WithDefault(builder, "phpbb-admin-email", DefaultAdminEmail)
            .WithDescription("E-mail address of the phpBB administrator and the board contact.");
        parameters.ComposeDefaults["PHPBB_ADMIN_EMAIL"] = DefaultAdminEmail;
        if (builder.ExecutionContext.IsRunMode)
        {
            builder.Eventing.Subscribe<BeforeStartEvent>((_, _) =>
            {
                StartupCheck.RequireContainerRuntime(builder.Configuration);
                return Task.CompletedTask;
            });
        }

        // MySQL: root only for administration; phpBB and the services use the `atsync` account, which the image's
        // entrypoint creates on first start (MYSQL_USER/MYSQL_PASSWORD/MYSQL_DATABASE) and init.sql narrows.
        var mysql = builder.AddMySql("mysql", mySqlRootPassword)
            .WithImageTag(MySqlImageTag)
            .WithDataVolume("atsync-mysql-data")
            .WithBindMount(ComposeDeployment.MySqlConfigSource, ComposeDeployment.MySqlConfigTarget, isReadOnly: true)
            .WithBindMount(ComposeDeployment.MySqlInitSource, ComposeDeployment.MySqlInitTarget, isReadOnly: true)
            .WithEnvironment("MYSQL_DATABASE", DatabaseName)
            .WithEnvironment("MYSQL_USER", DatabaseUser)
            .WithEnvironment("MYSQL_PASSWORD", mySqlPassword)
            .WithArgs(MySqlArguments(builder.AppHostDirectory))
            .PublishAsDockerComposeService(ComposeDeployment.MySql);

        var database = mysql.AddDatabase("phpbb-db", DatabaseName);

        // ConnectionStrings__phpbb for the services: the non-root account, never root; TLS required (MySQL 8's
        // caching_sha2_password needs a secure connection, and the image always offers TLS).
        var connectionString = builder.AddConnectionString(ForumDatabase.Name, ReferenceExpression.Create(
            $"Server={mysql.Resource.Host};Port={mysql.Resource.Port};User ID={DatabaseUser};Password={mySqlPassword.Resource};Database={DatabaseName};SslMode=Required"));

        // Reached from outside only through the front door when published (FrontDoor.cs); directly on loopback under `dotnet run`.
        var forum = builder.AddDockerfile("forum", "../docker", "phpbb/Dockerfile")
            .WithHttpEndpoint(targetPort: AtSyncApplication.ContainerHttpPort, name: "http")
            .WithEndpoint("http", endpoint => endpoint.IsExternal = builder.ExecutionContext.IsRunMode)
            .WithEnvironment("PHPBB_DB_HOST", mysql.Resource.Host)
            .WithEnvironment("PHPBB_DB_PORT", mysql.Resource.Port)
            .WithEnvironment("PHPBB_DB_NAME", DatabaseName)
            .WithEnvironment("PHPBB_DB_USER", DatabaseUser)
            .WithEnvironment("PHPBB_DB_PASSWORD", mySqlPassword)
            .WithEnvironment("PHPBB_TABLE_PREFIX", AtSyncApplication.TablePrefix)
            .WithEnvironment("PHPBB_ADMIN_PASSWORD", adminPassword)
            .WithEnvironment("PHPBB_ADMIN_EMAIL", adminEmail)
            .WithVolume("atsync-phpbb-files", "/var/lib/phpbb")
            .WaitFor(database)
            .WithHttpHealthCheck("/healthz.php")
            .PublishAsDockerComposeService((resource, service) => ComposeDeployment.Phpbb(parameters, service));

        return new ForumDatabase(connectionString, ReadyWhenHealthy: database, Forum: forum)
        {
            Server = mysql,
            AccountName = DatabaseUser,
            AccountPassword = mySqlPassword,
        };
    }

    /// <summary>The arguments of docker/mysqld.args (one a line; # comments).</summary>
    public static string[] MySqlArguments(string appHostDirectory) =>
        [.. File.ReadLines(Path.Combine(appHostDirectory, MySqlArgumentsSource))
            .Select(line => line.Trim())
            .Where(line => line.Length > 0 && !line.StartsWith('#'))];
}
