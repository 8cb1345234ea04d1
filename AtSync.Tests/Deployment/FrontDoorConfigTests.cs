using System.Text.RegularExpressions;
using AtSync.Tests.Infrastructure;

namespace AtSync.Tests.Deployment;

/// <summary>
/// docker/proxy/nginx.conf agrees with the compose file (ports, upstreams, mounts) and says what the front door must do:
/// TLS, HTTP only redirecting, the security headers on every answer, rate limits on the OAuth steps, and no query string
/// (the callback's code) in its log. The live deployment test runs it (LiveComposeDeploymentTests.FrontDoor).
/// </summary>
public sealed class FrontDoorConfigTests
{
    private static readonly string Config = File.ReadAllText(Path.Combine(RepositoryPaths.Root, "docker", "proxy", "nginx.conf"));

    /// <summary>The directives outside comments, one per entry, whitespace collapsed.</summary>
    private static readonly IReadOnlyList<string> Directives = Regex.Replace(Config, "#[^\n]*", "")
        .Split([';', '{', '}'], StringSplitOptions.RemoveEmptyEntries)
        .Select(d => Regex.Replace(d.Trim(), @"\s+", " "))
        .Where(d => d.Length > 0)
        .ToList();

    private static ComposeFile Compose() => ComposeFile.Load(Path.Combine(RepositoryPaths.Root, "docker-compose.generated.yml"));

    [Fact]
    public void Listens_on_the_ports_the_compose_file_publishes()
    {
        Assert.Contains("listen 8000 default_server", Directives);
        Assert.Contains("listen 8443 ssl default_server", Directives);
        Assert.Equal(["80:8000", "443:8443"], Compose()["proxy"].Ports);
    }

    [Fact]
    public void Sends_atproto_to_the_linking_service_and_everything_else_to_phpbb()
    {
        var compose = Compose();
        Assert.Contains($"set $atsync_linking http://linking:{compose["linking"].Environment["HTTP_PORTS"]}", Directives);
        Assert.Contains("set $atsync_forum http://forum:8080", Directives);
        Assert.Contains("8080", Assert.Single(compose["forum"].HealthTest, a => a.StartsWith("http://", StringComparison.Ordinal)));
        Assert.Contains("location ^~ /atproto/", Directives);
        Assert.Contains("location /", Directives);
        Assert.Equal(2, Directives.Count(d => d == "proxy_pass $atsync_linking"));
        Assert.Equal(1, Directives.Count(d => d == "proxy_pass $atsync_forum"));
        // Names resolved when asked (Docker's DNS), so a container that restarts with a new address is found again.
        Assert.Contains(Directives, d => d.StartsWith("resolver 127.0.0.11", StringComparison.Ordinal));
    }

    [Fact]
    public void Terminates_tls_from_the_mounted_files_and_redirects_plain_http()
    {
        Assert.Contains("ssl_certificate /etc/nginx/tls/fullchain.pem", Directives);
        Assert.Contains("ssl_certificate_key /etc/nginx/tls/privkey.pem", Directives);
        Assert.Contains("ssl_protocols TLSv1.2 TLSv1.3", Directives);
        Assert.Contains("return 301 https://$host$request_uri", Directives);
        Assert.Contains(Compose()["proxy"].Volumes, v => v.Target == "/etc/nginx/tls");
    }

    [Theory]
    [InlineData("Strict-Transport-Security")]
    [InlineData("X-Content-Type-Options")]
    [InlineData("X-Frame-Options")]
    [InlineData("Referrer-Policy")]
    [InlineData("Content-Security-Policy")]
    public void Sets_each_security_header_once_on_every_answer(string header)
    {
        // `always`: error answers too; the upstream's own value is hidden, so exactly one value reaches the browser.
        Assert.Single(Directives, d => d.StartsWith($"add_header {header} ", StringComparison.Ordinal) && d.EndsWith(" always", StringComparison.Ordinal));
        Assert.Contains($"proxy_hide_header {header}", Directives);
    }

    [Fact]
    public void The_linking_pages_get_a_strict_content_security_policy()
    {
        var csp = Regex.Match(Config, "~\\^/atproto/ \"(?<csp>default-src[^\"]*)\"").Groups["csp"].Value;
        Assert.Contains("default-src 'none'", csp, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        Assert.Contains("base-uri 'none'", csp, StringComparison.Ordinal);
        // The sign-in form's answer redirects to the member's authorization server.
        Assert.Contains("form-action 'self' https:", csp, StringComparison.Ordinal);
    }

    [Fact]
    public void Rate_limits_the_oauth_steps_with_429()
    {
        Assert.Contains(Directives, d => Regex.IsMatch(d, @"^limit_req_zone \$binary_remote_addr zone=atsync_oauth:\d+m rate=\d+r/[sm]$"));
        Assert.Contains("limit_req_status 429", Directives);
        var limited = Assert.Single(Directives, d => d.StartsWith("location ~ ", StringComparison.Ordinal));
        var pattern = new Regex(limited["location ~ ".Length..]);
        Assert.All(["/atproto/link", "/atproto/unlink", "/atproto/oauth/callback"], path => Assert.Matches(pattern, path));
        Assert.DoesNotMatch(pattern, "/atproto/oauth/client-metadata.json");
        Assert.Contains(Directives, d => d.StartsWith("limit_req zone=atsync_oauth ", StringComparison.Ordinal));
    }

    [Fact]
    public void Logs_no_query_string_or_referrer()
    {
        var format = Assert.Single(Directives, d => d.StartsWith("log_format atsync ", StringComparison.Ordinal));
        foreach (var variable in new[] { "$request ", "$request\"", "$request_uri", "$args", "$query_string", "$http_referer", "$arg_" })
        {
            Assert.DoesNotContain(variable, format, StringComparison.Ordinal);
        }
        Assert.Contains("$uri", format, StringComparison.Ordinal);
        Assert.Contains("access_log /dev/stdout atsync", Directives);
    }

    [Fact]
    public void Runs_as_a_non_root_user_writing_only_under_tmp()
    {
        Assert.DoesNotContain(Directives, d => d.StartsWith("user ", StringComparison.Ordinal));
        Assert.Contains("pid /tmp/nginx.pid", Directives);
        foreach (var kind in new[] { "client_body", "proxy", "fastcgi", "uwsgi", "scgi" })
        {
            Assert.Contains(Directives, d => d.StartsWith($"{kind}_temp_path /tmp/", StringComparison.Ordinal));
        }
    }
}
