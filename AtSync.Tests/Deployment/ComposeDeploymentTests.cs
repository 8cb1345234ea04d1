using AtSync.Tests.Infrastructure;

namespace AtSync.Tests.Deployment;

/// <summary>
/// The committed deployment (<c>docker-compose.generated.yml</c> and <c>.env.example</c>, the output of
/// <c>aspire publish</c>) follows the rules of the AppHost issue. Runs everywhere: no Aspire, no Docker needed.
/// </summary>
public sealed class ComposeDeploymentTests
{
    /// <summary>The Aspire dashboard image is distroless: no shell and no HTTP client to probe itself with. Its check is
    /// declared off (<c>test: ["NONE"]</c>) rather than faked; no service depends on it.</summary>
    public static readonly IReadOnlyDictionary<string, string> HealthCheckExemptions = new Dictionary<string, string>
    {
        ["compose-dashboard"] = "distroless Aspire dashboard image: nothing inside can probe it; nothing depends on it",
    };

    private static readonly string ComposePath = Path.Combine(RepositoryPaths.Root, "docker-compose.generated.yml");
    private static readonly string ExamplePath = Path.Combine(RepositoryPaths.Root, ".env.example");

    private static ComposeFile Compose() => ComposeFile.Load(ComposePath);
    private static IReadOnlyList<EnvEntry> Example() => EnvFile.Load(ExamplePath);

    [Fact]
    public void Declares_the_whole_system()
    {
        var compose = Compose();
        var names = compose.Services.Where(s => s.Profiles.Count == 0).Select(s => s.Name).Order().ToArray();
        Assert.Equal(["compose-dashboard", "firehose", "forum", "linking", "mysql", "proxy", "queueworker"], names);
        // Monitoring is an opt-in: `docker compose --profile monitoring up -d` (AtSync.AppHost/Monitoring.cs).
        var monitoring = compose.Services.Where(s => s.Profiles.Count > 0).Select(s => s.Name).Order().ToArray();
        Assert.Equal(["cadvisor", "grafana", "mysqld-exporter", "prometheus"], monitoring);
        Assert.All(compose.Services.Where(s => s.Profiles.Count > 0), s => Assert.Equal(["monitoring"], s.Profiles));
    }

    /// <summary>Each .NET service's own port inside its container (AtSync.AppHost/AtSyncApplication.cs): no two the same.</summary>
    public static readonly IReadOnlyDictionary<string, int> ServicePorts = new Dictionary<string, int>
    {
        ["firehose"] = 8081,
        ["queueworker"] = 8082,
        ["linking"] = 8083,
    };

    [Fact]
    public void Every_service_has_a_health_check() =>
        Assert.Empty(DeploymentRules.HealthChecks(Compose(), HealthCheckExemptions));

    [Fact]
    public void Health_checks_probe_what_each_service_serves()
    {
        var compose = Compose();
        Assert.Equal(["CMD", "mysqladmin", "ping"], compose["mysql"].HealthTest.Take(3));
        Assert.Contains(compose["forum"].HealthTest, a => a.StartsWith("http://127.0.0.1:8080/", StringComparison.Ordinal));
        foreach (var (service, port) in ServicePorts)
        {
            Assert.Equal($"http://127.0.0.1:{port}/health", compose[service].HealthTest[^1]);
            Assert.Equal(port.ToString(System.Globalization.CultureInfo.InvariantCulture), compose[service].Environment["HTTP_PORTS"]);
        }
        Assert.Equal(["CMD", "wget", "--quiet", "--spider", "http://127.0.0.1:8000/nginx-health"], compose["proxy"].HealthTest);
        // Distinct ports, and none is phpBB's 8080 or the proxy's: host networking needs no renumbering.
        Assert.Equal(ServicePorts.Count, ServicePorts.Values.Distinct().Count());
        Assert.DoesNotContain(ServicePorts.Values, p => p is 8080 or 8000 or 8443);
    }

    [Fact]
    public void A_service_is_unhealthy_after_three_failed_checks()
    {
        // 10 s apart: a lost database shows within about 30-45 s, well inside the operator's 60 s.
        Assert.All(Compose().Services.Where(s => !HealthCheckExemptions.ContainsKey(s.Name)), s => Assert.Equal("3", s.HealthRetries));
    }

    [Fact]
    public void Mysql_gets_what_atsync_needs_on_its_command_line()
    {
        var arguments = File.ReadLines(Path.Combine(RepositoryPaths.Root, "docker", "mysqld.args"))
            .Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
        Assert.Equal(["--log-bin-trust-function-creators=1", "--binlog-expire-logs-seconds=604800"], arguments);
        Assert.Equal(arguments, Compose()["mysql"].Command);
    }

    [Fact]
    public void Every_service_restarts_unless_stopped() => Assert.Empty(DeploymentRules.RestartPolicies(Compose()));

    [Fact]
    public void Every_service_stops_within_30_seconds() => Assert.Empty(DeploymentRules.StopGracePeriods(Compose()));

    [Fact]
    public void Every_service_has_cpu_and_memory_limits() => Assert.Empty(DeploymentRules.ResourceLimits(Compose()));

    [Fact]
    public void Services_wait_for_a_healthy_database()
    {
        var compose = Compose();
        Assert.Empty(DeploymentRules.HealthyDependencies(compose));
        foreach (var service in new[] { "forum", "firehose", "queueworker", "linking" })
        {
            Assert.Equal("service_healthy", compose[service].DependsOn["mysql"]);
        }
        Assert.Equal("service_healthy", compose["proxy"].DependsOn["forum"]);
        Assert.Equal("service_healthy", compose["proxy"].DependsOn["linking"]);
    }

    [Fact]
    public void No_secret_is_inline() => Assert.Empty(DeploymentRules.NoInlineSecrets(Compose()));

    [Fact]
    public void Services_connect_as_the_non_root_database_user()
    {
        var compose = Compose();
        foreach (var service in ServicePorts.Keys)
        {
            var connectionString = compose[service].Environment["ConnectionStrings__phpbb"];
            Assert.Contains("User ID=atsync;", connectionString, StringComparison.Ordinal);
            Assert.Contains("Password=${MYSQL_PASSWORD};", connectionString, StringComparison.Ordinal);
            Assert.Contains("Server=mysql;", connectionString, StringComparison.Ordinal);
            // MySQL 8's caching_sha2_password needs a secure connection: TLS is stated, not left to chance.
            Assert.EndsWith(";SslMode=Required", connectionString, StringComparison.Ordinal);
        }
        Assert.Equal("atsync", compose["forum"].Environment["PHPBB_DB_USER"]);
        Assert.Equal("${MYSQL_PASSWORD}", compose["forum"].Environment["PHPBB_DB_PASSWORD"]);
        Assert.Equal("atsync", compose["mysql"].Environment["MYSQL_USER"]);
    }

    [Fact]
    public void Services_get_every_setting_of_the_design()
    {
        var compose = Compose();
        string[] shared = ["ConnectionStrings__phpbb", "FORUM_DID", "FORUM_PDS_URL", "LOG_LEVEL", "PHPBB_TABLE_PREFIX", "OTEL_EXPORTER_OTLP_ENDPOINT"];
        Assert.All(shared.Concat(["RELAY_URL", "LABELER_DID", "LABELER_URL"]), key => Assert.Contains(key, compose["firehose"].Environment.Keys));
        Assert.All(shared.Concat(["FORUM_APP_PASSWORD", "FORUM_HANDLE", "TOKEN_ENCRYPTION_KEYS", "TOKEN_ENCRYPTION_KEY_VERSION", "LINKING_PUBLIC_URL", "OAUTH_CLIENT_KEY"]),
            key => Assert.Contains(key, compose["queueworker"].Environment.Keys));
        string[] linking = ["ConnectionStrings__phpbb", "PHPBB_TABLE_PREFIX", "LOG_LEVEL", "TOKEN_ENCRYPTION_KEYS", "TOKEN_ENCRYPTION_KEY_VERSION", "PLC_DIRECTORY_URL",
            "LINKING_PUBLIC_URL", "OAUTH_CLIENT_KEY", "OTEL_EXPORTER_OTLP_ENDPOINT"];
        Assert.All(linking, key => Assert.Contains(key, compose["linking"].Environment.Keys));
        // Least privilege: the linking service gets no forum account password.
        Assert.DoesNotContain("FORUM_APP_PASSWORD", compose["linking"].Environment.Keys);
        // The same OAuth client in both (a refresh must come from the client the session was issued to).
        Assert.Equal("${LINKING_PUBLIC_URL}", compose["linking"].Environment["LINKING_PUBLIC_URL"]);
        Assert.Equal("${LINKING_PUBLIC_URL}", compose["queueworker"].Environment["LINKING_PUBLIC_URL"]);
        Assert.Equal("${TOKEN_ENCRYPTION_KEY_VERSION:-v1}", compose["queueworker"].Environment["TOKEN_ENCRYPTION_KEY_VERSION"]);
        // Optional: left empty in .env, the forum account signs in with FORUM_DID.
        Assert.Equal("${FORUM_HANDLE:-}", compose["queueworker"].Environment["FORUM_HANDLE"]);
        Assert.DoesNotContain("FORUM_HANDLE", compose["firehose"].Environment.Keys);
        Assert.Equal("${RELAY_URL:-wss://bsky.network/xrpc/com.atproto.sync.subscribeRepos}", compose["firehose"].Environment["RELAY_URL"]);
    }

    [Fact]
    public void Every_variable_is_documented_in_the_env_example() =>
        Assert.Empty(DeploymentRules.VariablesDocumented(Compose(), Example()));

    [Fact]
    public void The_env_example_says_how_to_generate_each_secret()
    {
        var example = Example().ToDictionary(e => e.Name, e => string.Join(" ", e.Comments));
        foreach (var secret in new[] { "MYSQL_ROOT_PASSWORD", "MYSQL_PASSWORD", "PHPBB_ADMIN_PASSWORD" })
        {
            Assert.Contains("openssl rand", example[secret], StringComparison.Ordinal);
        }
        Assert.Contains("openssl rand -base64 32", example["TOKEN_ENCRYPTION_KEYS"], StringComparison.Ordinal);
        Assert.Contains("{\"v1\":", example["TOKEN_ENCRYPTION_KEYS"], StringComparison.Ordinal);
        Assert.Contains("Rotation", example["TOKEN_ENCRYPTION_KEY_VERSION"], StringComparison.Ordinal);
    }

    [Fact]
    public void Images_are_pinned() => Assert.Empty(DeploymentRules.PinnedImages(Compose()));

    [Fact]
    public void Services_do_not_run_as_root()
    {
        var compose = Compose();
        Assert.Empty(DeploymentRules.NonRootUsers(compose));
        // cAdvisor (monitoring profile) reads every container's cgroups and the kernel log: root, as its documentation runs it.
        Assert.All(compose.Services.Where(s => !HealthCheckExemptions.ContainsKey(s.Name) && s.Name != "cadvisor"), s => Assert.False(string.IsNullOrEmpty(s.User), $"{s.Name} names no user"));
    }

    [Fact]
    public void Only_the_front_door_and_the_dashboard_are_published_on_the_host()
    {
        var compose = Compose();
        foreach (var service in new[] { "mysql", "forum", "firehose", "queueworker", "linking" })
        {
            Assert.Empty(compose[service].Ports);
        }
        Assert.Equal(["80:8000", "443:8443"], compose["proxy"].Ports);
        Assert.Equal(["18888:18888"], compose["compose-dashboard"].Ports);
    }

    [Fact]
    public void The_front_door_is_the_official_nginx_pinned_by_tag_and_digest_as_a_non_root_user()
    {
        var proxy = Compose()["proxy"];
        Assert.Matches(@"^docker\.io/library/nginx:\d+\.\d+\.\d+-alpine@sha256:[0-9a-f]{64}$", proxy.Image);
        Assert.Equal("101:101", proxy.User);
        Assert.Contains(proxy.Volumes, v => v is ("bind", "./docker/proxy/nginx.conf", "/etc/nginx/nginx.conf"));
        Assert.Contains(proxy.Volumes, v => v is ("bind", "./secrets/tls", "/etc/nginx/tls"));
    }

    [Fact]
    public void Bind_mounts_and_build_contexts_exist_in_the_repository()
    {
        var compose = Compose();
        // Bind mounts from the repository (MySQL's configuration, the front door's nginx.conf, the monitoring profile's ops/
        // folders); the operator's TLS files live in ./secrets/ (git-ignored); cAdvisor's read-only host paths (/, /sys, …)
        // are the Docker host's own.
        var binds = compose.Services.SelectMany(s => s.Volumes).Where(v => v.Type == "bind" && v.Source!.StartsWith("./", StringComparison.Ordinal) && v.Source != "./secrets/tls").ToList();
        Assert.Equal(6, binds.Count);
        Assert.All(binds, v => Assert.True(File.Exists(Path.Combine(RepositoryPaths.Root, v.Source!)) || Directory.Exists(Path.Combine(RepositoryPaths.Root, v.Source!)), $"{v.Source} does not exist"));
        Assert.Contains(compose["proxy"].Volumes, v => v is ("bind", "./secrets/tls", "/etc/nginx/tls"));
        Assert.Contains("/secrets/", File.ReadAllLines(Path.Combine(RepositoryPaths.Root, ".gitignore")).Select(l => l.Trim()));
        Assert.All(compose.Services.SelectMany(s => s.Volumes).Where(v => v.Type == "bind" && !v.Source!.StartsWith("./", StringComparison.Ordinal)),
            v => Assert.Contains(v, compose["cadvisor"].Volumes));
        Assert.True(compose["forum"].HasBuild);
        Assert.True(File.Exists(Path.Combine(RepositoryPaths.Root, "docker", "phpbb", "Dockerfile")));
        Assert.Contains(compose["mysql"].Volumes, v => v.Type == "volume" && v.Target == "/var/lib/mysql");
    }

    [Fact]
    public void Dot_env_is_git_ignored()
    {
        var ignored = File.ReadAllLines(Path.Combine(RepositoryPaths.Root, ".gitignore")).Select(l => l.Trim());
        Assert.Contains(".env", ignored);
    }
}
