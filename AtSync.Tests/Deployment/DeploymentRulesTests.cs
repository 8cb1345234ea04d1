namespace AtSync.Tests.Deployment;

/// <summary>The rules catch what they are meant to catch: each fed a small compose file that breaks it.</summary>
public sealed class DeploymentRulesTests
{
    private const string Good = """
        services:
          db:
            image: "mysql:8.4.7"
            environment:
              MYSQL_ROOT_PASSWORD: "${DB_ROOT}"
            user: "999:999"
            restart: "unless-stopped"
            stop_grace_period: "30s"
            deploy:
              resources:
                limits:
                  cpus: "1.0"
                  memory: "1g"
            healthcheck:
              test: ["CMD", "mysqladmin", "ping"]
              interval: "10s"
          app:
            image: "${APP_IMAGE:-example/app:1.2.3}"
            environment:
              ConnectionStrings__db: "Server=db;Password=${DB_PASSWORD};Database=x"
              LOG_LEVEL: "${LOG_LEVEL:-Information}"
            depends_on:
              db:
                condition: "service_healthy"
            restart: "unless-stopped"
            stop_grace_period: "1m0s"
            deploy:
              resources:
                limits:
                  cpus: "0.5"
            healthcheck:
              test: ["CMD", "wget", "--spider", "http://127.0.0.1:8080/health"]
        """;

    private static ComposeFile Parse(string yaml) => ComposeFile.Parse(yaml);

    [Fact]
    public void Stop_grace_period_over_30_seconds_is_reported()
    {
        var violations = DeploymentRules.StopGracePeriods(Parse(Good));
        Assert.Equal(["app: stop_grace_period 60s is over 30s"], violations);
    }

    [Fact]
    public void Missing_memory_limit_is_reported() =>
        Assert.Equal(["app: deploy.resources.limits needs both cpus and memory"], DeploymentRules.ResourceLimits(Parse(Good)));

    [Fact]
    public void Health_check_NONE_or_missing_is_reported_unless_exempt()
    {
        var compose = Parse(Good.Replace("""test: ["CMD", "mysqladmin", "ping"]""", """test: ["NONE"]""", StringComparison.Ordinal));
        Assert.Equal(["db: no health check (healthcheck.test must be CMD or CMD-SHELL with a command)"], DeploymentRules.HealthChecks(compose, new Dictionary<string, string>()));
        Assert.Empty(DeploymentRules.HealthChecks(compose, new Dictionary<string, string> { ["db"] = "test" }));
        Assert.Equal(["app: depends on db, which has no health check"], DeploymentRules.HealthyDependencies(compose));
    }

    [Fact]
    public void Dependency_that_only_waits_for_start_is_reported()
    {
        var compose = Parse(Good.Replace("service_healthy", "service_started", StringComparison.Ordinal));
        Assert.Equal(["app: depends on db with condition 'service_started', not service_healthy"], DeploymentRules.HealthyDependencies(compose));
    }

    [Fact]
    public void Missing_restart_policy_is_reported()
    {
        var compose = Parse(Good.Replace("""
                restart: "unless-stopped"
                stop_grace_period: "30s"
            """, """
                stop_grace_period: "30s"
            """, StringComparison.Ordinal));
        Assert.Equal(["db: restart is '(none)', not 'unless-stopped'"], DeploymentRules.RestartPolicies(compose));
    }

    [Theory]
    [InlineData("MYSQL_ROOT_PASSWORD: \"${DB_ROOT}\"", "MYSQL_ROOT_PASSWORD: \"hunter2\"", "db: secret MYSQL_ROOT_PASSWORD is not a plain ${VAR} reference")]
    [InlineData("MYSQL_ROOT_PASSWORD: \"${DB_ROOT}\"", "MYSQL_ROOT_PASSWORD: \"${DB_ROOT:-hunter2}\"", "db: secret MYSQL_ROOT_PASSWORD is not a plain ${VAR} reference")]
    [InlineData("Password=${DB_PASSWORD};", "Password=hunter2;", "app: ConnectionStrings__db has a password that is not a ${VAR} reference")]
    public void Inline_secret_is_reported(string original, string replacement, string expected)
    {
        var compose = Parse(Good.Replace(original, replacement, StringComparison.Ordinal));
        Assert.Equal([expected], DeploymentRules.NoInlineSecrets(compose));
    }

    [Theory]
    [InlineData("mysql:8.4.7", "mysql:latest", "db: image 'mysql:latest' uses latest")]
    [InlineData("mysql:8.4.7", "mysql", "db: image 'mysql' has no tag")]
    [InlineData("mysql:8.4.7", "localhost:5000/mysql", "db: image 'localhost:5000/mysql' has no tag")]
    [InlineData("example/app:1.2.3", "example/app", "app: image '${APP_IMAGE:-example/app}' has no tag")]
    public void Unpinned_image_is_reported(string original, string replacement, string expected)
    {
        Assert.Empty(DeploymentRules.PinnedImages(Parse(Good)));
        Assert.Equal([expected], DeploymentRules.PinnedImages(Parse(Good.Replace(original, replacement, StringComparison.Ordinal))));
    }

    [Fact]
    public void Undocumented_unused_and_valued_variables_are_reported()
    {
        var example = EnvFile.Parse([
            "# root password", "DB_ROOT=",
            "DB_PASSWORD=",
            "# log level", "LOG_LEVEL=Debug",
            "# not used", "UNUSED=",
        ]);
        Assert.Equal([
            "${APP_IMAGE} is used by the compose file but missing from .env.example",
            "DB_PASSWORD has no comment in .env.example",
            "LOG_LEVEL has a value in .env.example; the example documents, the ignored .env holds values",
            "UNUSED is in .env.example but the compose file never uses it",
        ], DeploymentRules.VariablesDocumented(Parse(Good), example));
    }

    [Fact]
    public void Root_user_is_reported() =>
        Assert.Equal(["db: runs as root (0:0)"], DeploymentRules.NonRootUsers(Parse(Good.Replace("999:999", "0:0", StringComparison.Ordinal))));

    [Theory]
    [InlineData("30s", 30)]
    [InlineData("1m30s", 90)]
    [InlineData("1500ms", 1.5)]
    [InlineData("2h", 7200)]
    public void Compose_durations_parse(string text, double seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), DeploymentRules.ParseDuration(text));

    [Theory]
    [InlineData("")]
    [InlineData("30")]
    [InlineData("abc")]
    [InlineData("10x")]
    public void Malformed_durations_do_not_parse(string text) => Assert.Null(DeploymentRules.ParseDuration(text));

    [Fact]
    public void Variables_include_nested_defaults_but_not_escaped_dollars()
    {
        var variables = DeploymentRules.Variables("a: \"${A:-${B}}\"\nb: \"$${NOT}\"\nc: \"${C}\"");
        Assert.Equal(["A", "B", "C"], variables.Order(StringComparer.Ordinal));
    }
}
