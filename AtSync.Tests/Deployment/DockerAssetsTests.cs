using System.Text.RegularExpressions;
using AtSync.Tests.Infrastructure;

namespace AtSync.Tests.Deployment;

/// <summary>The files under <c>docker/</c> that the compose file and the AppHost use say what the issue requires.</summary>
public sealed class DockerAssetsTests
{
    private static string Read(params string[] parts) => File.ReadAllText(Path.Combine([RepositoryPaths.Root, "docker", .. parts]));

    [Fact]
    public void Phpbb_image_is_pinned_checksum_verified_and_non_root()
    {
        var dockerfile = Read("phpbb", "Dockerfile");
        var from = Regex.Matches(dockerfile, @"^FROM\s+(\S+)", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToList();
        Assert.NotEmpty(from);
        Assert.All(from, image => Assert.Matches(@"^[^:@]+:\d[\w.-]*$", image));
        Assert.Matches(@"ARG PHPBB_VERSION=3\.3\.\d+", dockerfile);
        Assert.Matches(@"ARG PHPBB_SHA256=[0-9a-f]{64}\b", dockerfile);
        Assert.Contains("sha256sum -c", dockerfile, StringComparison.Ordinal);
        var user = Regex.Matches(dockerfile, @"^USER\s+(\S+)", RegexOptions.Multiline).Select(m => m.Groups[1].Value).LastOrDefault();
        Assert.Equal("www-data", user);
        foreach (var extension in new[] { "gd", "intl", "mysqli", "zip" })
        {
            Assert.Matches($@"docker-php-ext-install[^\n]*\b{extension}\b", dockerfile);
        }
        Assert.Contains("phpbbcli.php\" install", Read("phpbb", "entrypoint.sh"), StringComparison.Ordinal);
    }

    [Fact]
    public void Mysql_config_is_utf8mb4_with_slow_log_and_trigger_creation_allowed()
    {
        var settings = Read("my.cnf").Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => l.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0].Trim(), p => p[1].Trim());
        Assert.Equal("utf8mb4", settings["character-set-server"]);
        Assert.StartsWith("utf8mb4_", settings["collation-server"], StringComparison.Ordinal);
        Assert.Equal("1", settings["log_bin_trust_function_creators"]);
        Assert.Equal("ON", settings["slow_query_log"]);
        Assert.Equal("InnoDB", settings["default-storage-engine"]);
        Assert.True(settings.ContainsKey("innodb_buffer_pool_size"));
    }

    [Fact]
    public void Init_sql_grants_the_service_account_triggers_and_holds_no_password()
    {
        var sql = Read("init.sql");
        Assert.Matches(@"(?s)GRANT\s[^;]*\bTRIGGER\b[^;]*ON\s+`phpbb`\.\*\s+TO\s+'atsync'@'%'", sql);
        Assert.DoesNotMatch(@"(?i)IDENTIFIED\s+BY", sql);
        Assert.DoesNotMatch(@"(?i)\bSUPER\b|ON\s+\*\.\*", sql);
    }
}
