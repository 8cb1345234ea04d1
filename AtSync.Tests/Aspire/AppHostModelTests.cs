using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using AtSync.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace AtSync.Tests.Aspire;

/// <summary>
/// The AppHost's application model in existing-forum mode (<c>ConnectionStrings:phpbb</c> configured): the three services,
/// their parameters, environment, waits and health checks, and no container at all.
/// </summary>
public sealed class AppHostModelTests
{
    private static readonly string[] SecretSettings = ["ConnectionStrings__phpbb", "FORUM_APP_PASSWORD", "TOKEN_ENCRYPTION_KEYS", "OAUTH_CLIENT_KEY"];

    internal static T Resource<T>(IDistributedApplicationBuilder builder, string name) where T : IResource =>
        Assert.IsType<T>(Assert.Single(builder.Resources, r => r.Name == name), exactMatch: false);

    /// <summary>The environment a resource gets, as manifest expressions (publish context: no value is resolved).</summary>
    internal static async Task<Dictionary<string, string>> EnvironmentAsync(IResource resource)
    {
        var result = await ExecutionConfigurationBuilder.Create(resource)
            .WithEnvironmentVariablesConfig()
            .BuildAsync(new DistributedApplicationExecutionContext(DistributedApplicationOperation.Publish), NullLogger.Instance);
        return result.EnvironmentVariables.ToDictionary(kv => kv.Key, kv => kv.Value);
    }

    private static Task<IDistributedApplicationTestingBuilder> ExistingForumAsync() => AppHostFactory.RunModeAsync(AppHostFactory.ExistingForumSettings());

    [Fact]
    public async Task Declares_the_three_services_and_the_connection_string_and_no_container()
    {
        await using var builder = await ExistingForumAsync();
        var connectionString = Resource<ParameterResource>(builder, "phpbb");
        Assert.True(connectionString.IsConnectionString);
        Assert.True(connectionString.Secret);
        Assert.Equal(AppHostFactory.ModelConnectionString, await ((IResourceWithConnectionString)connectionString).GetConnectionStringAsync());
        Assert.Equal(Path.Combine(RepositoryPaths.Root, "AtSync.Firehose", "AtSync.Firehose.csproj"),
            Resource<ProjectResource>(builder, "firehose").GetProjectMetadata().ProjectPath);
        Assert.Equal(Path.Combine(RepositoryPaths.Root, "AtSync.QueueWorker", "AtSync.QueueWorker.csproj"),
            Resource<ProjectResource>(builder, "queueworker").GetProjectMetadata().ProjectPath);
        Assert.Equal(Path.Combine(RepositoryPaths.Root, "AtSync.Linking", "AtSync.Linking.csproj"),
            Resource<ProjectResource>(builder, "linking").GetProjectMetadata().ProjectPath);
        Assert.Empty(builder.Resources.OfType<ContainerResource>());
        Assert.DoesNotContain(builder.Resources, r => r.Name is "mysql" or "phpbb-db" or "forum" or "mysql-root-password" or "mysql-password" or "phpbb-admin-password");
    }

    [Theory]
    [InlineData("forum-app-password", true)]
    [InlineData("forum-handle", false)]
    [InlineData("token-encryption-keys", true)]
    [InlineData("forum-did", false)]
    [InlineData("forum-pds-url", false)]
    [InlineData("token-encryption-key-version", false)]
    [InlineData("relay-url", false)]
    [InlineData("labeler-did", false)]
    [InlineData("labeler-url", false)]
    [InlineData("plc-directory-url", false)]
    [InlineData("identity-allowed-hosts", false)]
    [InlineData("log-level", false)]
    [InlineData("linking-public-url", false)]
    [InlineData("oauth-client-key", true)]
    public async Task Declares_each_parameter_with_its_secret_flag(string name, bool secret)
    {
        await using var builder = await ExistingForumAsync();
        Assert.Equal(secret, Resource<ParameterResource>(builder, name).Secret);
    }

    [Theory]
    [InlineData("token-encryption-key-version", "v1")]
    [InlineData("relay-url", "wss://bsky.network/xrpc/com.atproto.sync.subscribeRepos")]
    [InlineData("plc-directory-url", "https://plc.directory")]
    [InlineData("log-level", "Information")]
    [InlineData("labeler-did", "")]
    [InlineData("forum-handle", "")]
    [InlineData("identity-allowed-hosts", "")]
    [InlineData("linking-public-url", "")]
    [InlineData("oauth-client-key", "")]
    public async Task Plain_parameters_default_and_configuration_overrides_them(string name, string expected)
    {
        await using (var builder = await ExistingForumAsync())
        {
            Assert.Equal(expected, await Resource<ParameterResource>(builder, name).GetValueAsync(CancellationToken.None));
        }
        var settings = AppHostFactory.ExistingForumSettings();
        settings[$"Parameters:{name}"] = "configured";
        await using (var builder = await AppHostFactory.RunModeAsync(settings))
        {
            Assert.Equal("configured", await Resource<ParameterResource>(builder, name).GetValueAsync(CancellationToken.None));
        }
    }

    [Fact]
    public async Task Plain_parameters_read_the_environment_spelling_with_underscores()
    {
        // Environment variables cannot hold dashes in every shell: Parameters__relay_url is Parameters:relay-url.
        var settings = AppHostFactory.ExistingForumSettings();
        settings["Parameters:relay_url"] = "ws://127.0.0.1:1/xrpc/com.atproto.sync.subscribeRepos";
        await using var builder = await AppHostFactory.RunModeAsync(settings);
        Assert.Equal(settings["Parameters:relay_url"], await Resource<ParameterResource>(builder, "relay-url").GetValueAsync(CancellationToken.None));
    }

    [Theory]
    [InlineData("firehose", new[] { "RELAY_URL={relay-url.value}", "LABELER_DID={labeler-did.value}", "LABELER_URL={labeler-url.value}", "PLC_DIRECTORY_URL={plc-directory-url.value}", "IDENTITY_ALLOWED_HOSTS={identity-allowed-hosts.value}" })]
    [InlineData("queueworker", new[] { "FORUM_APP_PASSWORD={forum-app-password.value}", "FORUM_HANDLE={forum-handle.value}", "TOKEN_ENCRYPTION_KEYS={token-encryption-keys.value}", "TOKEN_ENCRYPTION_KEY_VERSION={token-encryption-key-version.value}",
        "LINKING_PUBLIC_URL=http://127.0.0.1:{linking.bindings.http.port}/atproto/", "OAUTH_CLIENT_KEY={oauth-client-key.value}" })]
    [InlineData("linking", new[] { "TOKEN_ENCRYPTION_KEYS={token-encryption-keys.value}", "TOKEN_ENCRYPTION_KEY_VERSION={token-encryption-key-version.value}", "PLC_DIRECTORY_URL={plc-directory-url.value}", "IDENTITY_ALLOWED_HOSTS={identity-allowed-hosts.value}",
        "LINKING_PUBLIC_URL=http://127.0.0.1:{linking.bindings.http.port}/atproto/", "OAUTH_CLIENT_KEY={oauth-client-key.value}" })]
    public async Task Services_get_the_existing_database_and_their_settings(string name, string[] own)
    {
        await using var builder = await ExistingForumAsync();
        var environment = await EnvironmentAsync(Resource<ProjectResource>(builder, name));
        string[] shared = ["ConnectionStrings__phpbb={phpbb.connectionString}", "LOG_LEVEL={log-level.value}", "PHPBB_TABLE_PREFIX=phpbb_"];
        if (name != "linking") shared = [.. shared, "FORUM_DID={forum-did.value}", "FORUM_PDS_URL={forum-pds-url.value}"];
        foreach (var expected in shared.Concat(own))
        {
            var (key, value) = (expected[..expected.IndexOf('=')], expected[(expected.IndexOf('=') + 1)..]);
            Assert.True(environment.TryGetValue(key, out var actual), $"{name} gets no {key}");
            Assert.Equal(value, actual);
        }
        // Least privilege: the Firehose gets no token secrets, the linking service not the forum account's token.
        if (name == "firehose")
        {
            Assert.DoesNotContain(environment.Values, v => v.Contains("token-encryption-keys", StringComparison.Ordinal) || v.Contains("forum-app-password", StringComparison.Ordinal)
                || v.Contains("oauth-client-key", StringComparison.Ordinal));
        }
        if (name == "linking")
        {
            Assert.DoesNotContain(environment.Values, v => v.Contains("forum-app-password", StringComparison.Ordinal) || v.Contains("forum-handle", StringComparison.Ordinal));
        }
    }

    /// <remarks>
    /// Without <c>linking-public-url</c> (the theory above) <c>dotnet run</c> makes the linking service AT OAuth's
    /// localhost client on its own endpoint, at 127.0.0.1 (an address, not "localhost", as AT OAuth wants for redirect
    /// URIs); set, the parameter is the URL of both (the QueueWorker refreshes as the same client).
    /// </remarks>
    [Fact]
    public async Task A_configured_public_url_is_the_linking_service_s_and_the_queue_worker_s()
    {
        var settings = AppHostFactory.ExistingForumSettings();
        settings["Parameters:linking-public-url"] = "https://forum.example.com/atproto/";
        await using var builder = await AppHostFactory.RunModeAsync(settings);
        foreach (var name in new[] { "linking", "queueworker" })
        {
            var environment = await EnvironmentAsync(Resource<ProjectResource>(builder, name));
            Assert.Equal("{linking-public-url.value}", environment["LINKING_PUBLIC_URL"]);
        }
        Assert.Equal("https://forum.example.com/atproto/", await Resource<ParameterResource>(builder, "linking-public-url").GetValueAsync(CancellationToken.None));
    }

    [Theory]
    [InlineData("firehose")]
    [InlineData("queueworker")]
    [InlineData("linking")]
    public async Task No_secret_travels_in_a_plain_parameter(string name)
    {
        await using var builder = await ExistingForumAsync();
        var environment = await EnvironmentAsync(Resource<ProjectResource>(builder, name));
        var parameters = builder.Resources.OfType<ParameterResource>().ToDictionary(p => p.Name);
        var checkedSecrets = 0;
        foreach (var (key, value) in environment)
        {
            var referenced = parameters.Values.Where(p => value.Contains($"{{{p.Name}.", StringComparison.Ordinal)).ToList();
            foreach (var parameter in referenced)
            {
                var secret = SecretSettings.Contains(key);
                Assert.True(parameter.Secret == secret, $"{name}: {key} comes from parameter {parameter.Name}, secret={parameter.Secret}");
                if (secret) checkedSecrets++;
            }
        }
        Assert.Equal(name switch { "queueworker" => 4, "linking" => 3, _ => 1 }, checkedSecrets);
    }

    [Theory]
    [InlineData("firehose")]
    [InlineData("queueworker")]
    [InlineData("linking")]
    public async Task Waits_for_nothing_and_has_an_http_health_check(string name)
    {
        await using var builder = await ExistingForumAsync();
        var resource = Resource<ProjectResource>(builder, name);
        // The existing database is not a resource of this AppHost: there is nothing to wait for.
        Assert.Empty(resource.Annotations.OfType<WaitAnnotation>());
        Assert.Contains(resource.Annotations.OfType<EndpointAnnotation>(), e => e.Name == "http" && e.UriScheme == "http");
        // WithHttpHealthCheck names its check <resource>_<endpoint>_<path>_<status>_check.
        Assert.Contains(resource.Annotations.OfType<HealthCheckAnnotation>(), h => h.Key == $"{name}_http_/health_200_check");
    }
}
