using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Docker;
using AtSync.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace AtSync.Tests.Aspire.FullStack;

/// <summary>The full stack's application model (no existing forum configured): MySQL, phpBB, their parameters, waits and checks.</summary>
public sealed class FullStackModelTests
{
    private static T Resource<T>(IDistributedApplicationBuilder builder, string name) where T : IResource =>
        Assert.IsType<T>(Assert.Single(builder.Resources, r => r.Name == name), exactMatch: false);

    /// <summary>The environment a resource gets, as manifest expressions (publish context: no value is resolved).</summary>
    private static async Task<Dictionary<string, string>> EnvironmentAsync(IResource resource)
    {
        var result = await ExecutionConfigurationBuilder.Create(resource)
            .WithEnvironmentVariablesConfig()
            .BuildAsync(new DistributedApplicationExecutionContext(DistributedApplicationOperation.Publish), NullLogger.Instance);
        return result.EnvironmentVariables.ToDictionary(kv => kv.Key, kv => kv.Value);
    }

    [Fact]
    public async Task Declares_every_resource()
    {
        await using var builder = await AppHostFactory.RunModeAsync(FullStackSettings.Values());
        Resource<MySqlServerResource>(builder, "mysql");
        Assert.Equal("phpbb", Resource<MySqlDatabaseResource>(builder, "phpbb-db").DatabaseName);
        Resource<ConnectionStringResource>(builder, "phpbb");
        var forum = Resource<ContainerResource>(builder, "forum");
        Assert.True(forum.TryGetLastAnnotation<DockerfileBuildAnnotation>(out var dockerfile));
        Assert.Equal(Path.Combine(RepositoryPaths.Root, "docker"), Path.TrimEndingDirectorySeparator(dockerfile.ContextPath));
        Assert.Equal(Path.Combine(RepositoryPaths.Root, "docker", "phpbb", "Dockerfile"), dockerfile.DockerfilePath);
        Assert.Equal(Path.Combine(RepositoryPaths.Root, "AtSync.Firehose", "AtSync.Firehose.csproj"),
            Resource<ProjectResource>(builder, "firehose").GetProjectMetadata().ProjectPath);
        Assert.Equal(Path.Combine(RepositoryPaths.Root, "AtSync.QueueWorker", "AtSync.QueueWorker.csproj"),
            Resource<ProjectResource>(builder, "queueworker").GetProjectMetadata().ProjectPath);
    }

    [Theory]
    [InlineData("mysql-root-password", true)]
    [InlineData("mysql-password", true)]
    [InlineData("forum-app-password", true)]
    [InlineData("forum-handle", false)]
    [InlineData("token-encryption-keys", true)]
    [InlineData("phpbb-admin-password", true)]
    [InlineData("phpbb-admin-email", false)]
    [InlineData("forum-did", false)]
    [InlineData("forum-pds-url", false)]
    [InlineData("token-encryption-key-version", false)]
    [InlineData("relay-url", false)]
    [InlineData("labeler-did", false)]
    [InlineData("labeler-url", false)]
    [InlineData("log-level", false)]
    public async Task Declares_each_parameter_with_its_secret_flag(string name, bool secret)
    {
        await using var builder = await AppHostFactory.RunModeAsync(FullStackSettings.Values());
        Assert.Equal(secret, Resource<ParameterResource>(builder, name).Secret);
    }

    [Theory]
    [InlineData("token-encryption-key-version", "v1")]
    [InlineData("relay-url", "wss://bsky.network/xrpc/com.atproto.sync.subscribeRepos")]
    [InlineData("log-level", "Information")]
    [InlineData("labeler-did", "")]
    [InlineData("forum-handle", "")]
    public async Task Plain_parameters_default_and_configuration_overrides_them(string name, string expected)
    {
        await using (var builder = await AppHostFactory.RunModeAsync(FullStackSettings.Values()))
        {
            Assert.Equal(expected, await Resource<ParameterResource>(builder, name).GetValueAsync(CancellationToken.None));
        }
        var settings = FullStackSettings.Values();
        settings[$"Parameters:{name}"] = "configured";
        await using (var builder = await AppHostFactory.RunModeAsync(settings))
        {
            Assert.Equal("configured", await Resource<ParameterResource>(builder, name).GetValueAsync(CancellationToken.None));
        }
    }

    [Fact]
    public async Task Mysql_is_pinned_persistent_configured_and_creates_the_service_account()
    {
        await using var builder = await AppHostFactory.RunModeAsync(FullStackSettings.Values());
        var mysql = Resource<MySqlServerResource>(builder, "mysql");
        Assert.True(mysql.TryGetLastAnnotation<ContainerImageAnnotation>(out var image));
        Assert.Equal("8.4.7", image.Tag);
        Assert.Same(Resource<ParameterResource>(builder, "mysql-root-password"), mysql.PasswordParameter);

        var mounts = mysql.Annotations.OfType<ContainerMountAnnotation>().ToList();
        Assert.Contains(mounts, m => m.Type == ContainerMountType.Volume && m.Target == "/var/lib/mysql" && m.Source == "atsync-mysql-data");
        var config = Assert.Single(mounts, m => m.Target == "/etc/mysql/conf.d/atsync.cnf");
        Assert.Equal(Path.Combine(RepositoryPaths.Root, "docker", "my.cnf"), config.Source);
        var init = Assert.Single(mounts, m => m.Target!.StartsWith("/docker-entrypoint-initdb.d/", StringComparison.Ordinal));
        Assert.Equal(Path.Combine(RepositoryPaths.Root, "docker", "init.sql"), init.Source);
        Assert.All([config, init], m => Assert.True(m.Type == ContainerMountType.BindMount && m.IsReadOnly && File.Exists(m.Source)));

        // What AtSync needs from mysqld is on its command line (docker/mysqld.args), not only in the mounted my.cnf.
        var arguments = await ArgumentsAsync(mysql);
        Assert.Equal(["--log-bin-trust-function-creators=1", "--binlog-expire-logs-seconds=604800"], arguments);

        var environment = await EnvironmentAsync(mysql);
        Assert.Equal("{mysql-root-password.value}", environment["MYSQL_ROOT_PASSWORD"]);
        Assert.Equal("phpbb", environment["MYSQL_DATABASE"]);
        Assert.Equal("atsync", environment["MYSQL_USER"]);
        Assert.Equal("{mysql-password.value}", environment["MYSQL_PASSWORD"]);
    }

    [Fact]
    public async Task Services_connect_as_the_non_root_account()
    {
        await using var builder = await AppHostFactory.RunModeAsync(FullStackSettings.Values());
        var connectionString = Resource<ConnectionStringResource>(builder, "phpbb").ConnectionStringExpression.ValueExpression;
        Assert.Equal("Server={mysql.bindings.tcp.host};Port={mysql.bindings.tcp.port};User ID=atsync;Password={mysql-password.value};Database=phpbb;SslMode=Required", connectionString);
    }

    [Theory]
    [InlineData("firehose", new[] { "RELAY_URL={relay-url.value}", "LABELER_DID={labeler-did.value}", "LABELER_URL={labeler-url.value}" })]
    [InlineData("queueworker", new[] { "FORUM_APP_PASSWORD={forum-app-password.value}", "FORUM_HANDLE={forum-handle.value}", "TOKEN_ENCRYPTION_KEYS={token-encryption-keys.value}", "TOKEN_ENCRYPTION_KEY_VERSION={token-encryption-key-version.value}" })]
    public async Task Services_get_the_database_reference_and_their_settings(string name, string[] own)
    {
        await using var builder = await AppHostFactory.RunModeAsync(FullStackSettings.Values());
        var service = Resource<ProjectResource>(builder, name);
        var environment = await EnvironmentAsync(service);
        string[] shared = ["ConnectionStrings__phpbb={phpbb.connectionString}", "FORUM_DID={forum-did.value}", "FORUM_PDS_URL={forum-pds-url.value}", "LOG_LEVEL={log-level.value}", "PHPBB_TABLE_PREFIX=phpbb_"];
        foreach (var expected in shared.Concat(own))
        {
            var (key, value) = (expected[..expected.IndexOf('=')], expected[(expected.IndexOf('=') + 1)..]);
            Assert.True(environment.TryGetValue(key, out var actual), $"{name} gets no {key}");
            Assert.Equal(value, actual);
        }
        // Least privilege: the Firehose gets no token secrets, and neither service gets the root password.
        Assert.DoesNotContain(environment.Values, v => v.Contains("mysql-root-password", StringComparison.Ordinal));
        if (name == "firehose") Assert.DoesNotContain(environment.Values, v => v.Contains("token-encryption-keys", StringComparison.Ordinal) || v.Contains("forum-app-password", StringComparison.Ordinal));
    }

    private static async Task<List<string>> ArgumentsAsync(IResource resource)
    {
        var result = await ExecutionConfigurationBuilder.Create(resource)
            .WithArgumentsConfig()
            .BuildAsync(new DistributedApplicationExecutionContext(DistributedApplicationOperation.Publish), NullLogger.Instance);
        return [.. result.Arguments.Select(a => a.Item1)];
    }

    [Theory]
    [InlineData("forum")]
    [InlineData("firehose")]
    [InlineData("queueworker")]
    [InlineData("linking")]
    public async Task Waits_for_a_healthy_database(string name)
    {
        await using var builder = await AppHostFactory.RunModeAsync(FullStackSettings.Values());
        var waits = Assert.Single(builder.Resources, r => r.Name == name).Annotations.OfType<WaitAnnotation>().ToList();
        Assert.Contains(waits, w => w.Resource.Name == "phpbb-db" && w.WaitType == WaitType.WaitUntilHealthy);
        Assert.Contains(waits, w => w.Resource.Name == "mysql" && w.WaitType == WaitType.WaitUntilHealthy);
    }

    [Theory]
    [InlineData("forum", "/healthz.php")]
    [InlineData("firehose", "/health")]
    [InlineData("queueworker", "/health")]
    public async Task Has_an_http_health_check(string name, string path)
    {
        await using var builder = await AppHostFactory.RunModeAsync(FullStackSettings.Values());
        var resource = Assert.IsAssignableFrom<IResourceWithEndpoints>(Assert.Single(builder.Resources, r => r.Name == name));
        Assert.Contains(resource.Annotations.OfType<EndpointAnnotation>(), e => e.Name == "http" && e.UriScheme == "http");
        // WithHttpHealthCheck names its check <resource>_<endpoint>_<path>_<status>_check.
        Assert.Contains(resource.Annotations.OfType<HealthCheckAnnotation>(), h => h.Key == $"{name}_http_{path}_200_check");
    }

    [Fact]
    public async Task The_front_door_is_published_only()
    {
        // Under `dotnet run` the forum and the linking service are reached on loopback http directly.
        await using var builder = await AppHostFactory.RunModeAsync(FullStackSettings.Values());
        Assert.DoesNotContain(builder.Resources, r => r.Name == "proxy");
        Assert.Contains(Resource<ContainerResource>(builder, "forum").Annotations.OfType<EndpointAnnotation>(), e => e.IsExternal);
    }

    [Fact]
    public async Task Databases_have_health_checks()
    {
        await using var builder = await AppHostFactory.RunModeAsync(FullStackSettings.Values());
        Assert.NotEmpty(Resource<MySqlServerResource>(builder, "mysql").Annotations.OfType<HealthCheckAnnotation>());
        Assert.NotEmpty(Resource<MySqlDatabaseResource>(builder, "phpbb-db").Annotations.OfType<HealthCheckAnnotation>());
    }

    [Fact]
    public async Task Publish_mode_adds_the_compose_environment_with_its_dashboard()
    {
        var output = Directory.CreateTempSubdirectory("atsync-publish-model-");
        try
        {
            await using var builder = await AppHostFactory.PublishModeAsync(output.FullName);
            var compose = Resource<DockerComposeEnvironmentResource>(builder, "compose");
            Assert.True(compose.DashboardEnabled);
            foreach (var name in new[] { "mysql", "forum", "firehose", "queueworker", "linking", "proxy" })
            {
                Assert.NotEmpty(Assert.Single(builder.Resources, r => r.Name == name).Annotations.OfType<DockerComposeServiceCustomizationAnnotation>());
            }
            // The front door: the pinned official nginx, waiting for phpBB and the linking service; phpBB itself is not external.
            var proxy = Resource<ContainerResource>(builder, "proxy");
            Assert.True(proxy.TryGetLastAnnotation<ContainerImageAnnotation>(out var image));
            Assert.Equal(("nginx", "1.30.1-alpine"), (image.Image.Split('/')[^1], image.Tag));
            Assert.Equal("c819f83c54b0361f5557601bf5eb4943d09360e7a7fdf426afc466570f45874d", image.SHA256);
            var waits = proxy.Annotations.OfType<WaitAnnotation>().Select(w => w.Resource.Name).ToList();
            Assert.Contains("forum", waits);
            Assert.Contains("linking", waits);
            Assert.DoesNotContain(Resource<ContainerResource>(builder, "forum").Annotations.OfType<EndpointAnnotation>(), e => e.IsExternal);
        }
        finally
        {
            output.Delete(recursive: true);
        }
    }
}
