using System.Net;
using System.Text.Json;
using MySqlConnector;

namespace AtSync.Tests.Deployment.Live;

public sealed partial class LiveComposeDeploymentTests
{
    /// <summary>
    /// The front door as a browser meets it (docker/proxy/nginx.conf on the nginx stand-in, the run's openssl certificate):
    /// plain HTTP only redirects to HTTPS; phpBB (the stand-in) and the linking service answer behind it, each with one
    /// value of every security header; the OAuth steps answer 429 past their burst while the client metadata stays
    /// reachable; the callback's code never reaches the proxy's log; and no service but the proxy publishes a port.
    /// </summary>
    private async Task FrontDoorAsync(ComposeDeployment deployment)
    {
        var local = deployment.Local;
        using var plain = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(15) };
        using var redirect = await plain.GetAsync($"http://127.0.0.1:{local.ProxyHttpPort}/viewtopic.php?f=2&t=1");
        var location = redirect.Headers.Location?.ToString() ?? "(none)";
        _figures.Check("front door: http://…/viewtopic.php?f=2&t=1", $"{(int)redirect.StatusCode} → {location}", "301 → https://127.0.0.1/viewtopic.php?f=2&t=1",
            redirect.StatusCode == HttpStatusCode.MovedPermanently && location == "https://127.0.0.1/viewtopic.php?f=2&t=1");

        using var https = ProxyClient(deployment);
        var origin = $"https://127.0.0.1:{local.ProxyHttpsPort}";

        // phpBB behind it: the stand-in's own health answer.
        using (var forum = await https.GetAsync($"{origin}/healthz.php"))
        {
            var body = await forum.Content.ReadAsStringAsync();
            _figures.Check("front door: https://…/healthz.php reaches phpBB (stand-in)", $"{(int)forum.StatusCode} {body.Trim()}", "200 healthy",
                forum.StatusCode == HttpStatusCode.OK && body.Trim() == "healthy");
            CheckHeaders("phpBB", forum, new()
            {
                ["Strict-Transport-Security"] = "max-age=31536000",
                ["X-Content-Type-Options"] = "nosniff",
                ["X-Frame-Options"] = "SAMEORIGIN",
                ["Referrer-Policy"] = "strict-origin-when-cross-origin",
                ["Content-Security-Policy"] = "frame-ancestors 'self'",
            });
        }

        // The linking service behind it: its client metadata document names the public URL as the client.
        using (var metadata = await https.GetAsync($"{origin}/atproto/oauth/client-metadata.json"))
        {
            var text = await metadata.Content.ReadAsStringAsync();
            var clientId = metadata.StatusCode == HttpStatusCode.OK ? JsonDocument.Parse(text).RootElement.GetProperty("client_id").GetString() : text;
            _figures.Check("front door: /atproto/oauth/client-metadata.json reaches linking (client_id)", $"{(int)metadata.StatusCode} {clientId}",
                $"200 {deployment.LinkingPublicUrl}oauth/client-metadata.json", clientId == deployment.LinkingPublicUrl + "oauth/client-metadata.json");
            CheckHeaders("linking", metadata, new()
            {
                ["Strict-Transport-Security"] = "max-age=31536000",
                ["X-Content-Type-Options"] = "nosniff",
                ["X-Frame-Options"] = "DENY",
                ["Referrer-Policy"] = "no-referrer",
                ["Content-Security-Policy"] = "default-src 'none'; form-action 'self' https:; frame-ancestors 'none'; base-uri 'none'",
            });
        }
        await CheckClientKeyAsync(deployment, https, "OAUTH_CLIENT_KEY from .env");

        // An OAuth callback: its code and state are in the query, which the proxy's log leaves out.
        const string code = "cb-code-must-not-be-logged-0b7f";
        using (var callback = await https.GetAsync($"{origin}/atproto/oauth/callback?code={code}&state=cb-state-0b7f&iss=https%3A%2F%2Fauth.example"))
        {
            // No phpBB session: the linking service's own page, through the proxy.
            _figures.Check("front door: /atproto/oauth/callback without a forum session", ((int)callback.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture),
                "401 (the linking service's sign-in page)", callback.StatusCode == HttpStatusCode.Unauthorized);
        }

        // Past the burst the sign-in steps answer 429; the metadata document (fetched by authorization servers) does not.
        var statuses = new List<int>();
        for (var i = 0; i < 30; i++)
        {
            using var page = await https.GetAsync($"{origin}/atproto/link");
            statuses.Add((int)page.StatusCode);
        }
        var limited = statuses.Count(s => s == 429);
        _figures.Check("front door: 30 quick GET /atproto/link", $"{statuses.Count(s => s == 401)}×401, {limited}×429 (first {statuses[0]})",
            "first answered by linking (401), then 429", statuses[0] == 401 && limited >= 10 && statuses.All(s => s is 401 or 429));
        using (var after = await https.GetAsync($"{origin}/atproto/oauth/client-metadata.json"))
        {
            _figures.Check("front door: client metadata right after the 429s", ((int)after.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture), "200 (not rate-limited)",
                after.StatusCode == HttpStatusCode.OK);
        }

        var proxyLog = await deployment.LogsAsync("proxy");
        var logged = proxyLog.Contains("/atproto/oauth/callback", StringComparison.Ordinal);
        var leaked = proxyLog.Contains(code, StringComparison.Ordinal) || proxyLog.Contains("cb-state-0b7f", StringComparison.Ordinal);
        _figures.Check("front door: proxy log of the callback", logged ? (leaked ? "path and query" : "path only") : "not logged", "path only, no code or state", logged && !leaked);

        // Only the proxy publishes ports: the deployment's own model (the committed file and this run's .env, without the
        // machine's override), and no container of the run has a port binding.
        var config = (await deployment.ComposeConfigWithoutOverrideAsync()).EnsureSuccess().StandardOutput;
        using var model = JsonDocument.Parse(config);
        var publishing = model.RootElement.GetProperty("services").EnumerateObject()
            .Where(s => s.Value.TryGetProperty("ports", out var ports) && ports.GetArrayLength() > 0).Select(s => s.Name).Order(StringComparer.Ordinal).ToList();
        _figures.Check("services publishing ports (compose model)", string.Join(", ", publishing), "compose-dashboard, proxy",
            publishing.SequenceEqual(["compose-dashboard", "proxy"]));
        var bound = new List<string>();
        foreach (var service in ComposeDeployment.Services)
        {
            var state = await deployment.StateAsync(service);
            var bindings = (await deployment.Docker.DockerAsync(["inspect", "--format", "{{json .HostConfig.PortBindings}}", state.Id])).EnsureSuccess().StandardOutput.Trim();
            if (bindings is not ("{}" or "null")) bound.Add($"{service} {bindings}");
        }
        _figures.Check("containers with port bindings (docker inspect)", bound.Count == 0 ? "none" : string.Join("; ", bound), "none", bound.Count == 0);
    }

    /// <summary>The linking service's JWKS (through the front door) holds the public half of <c>OAUTH_CLIENT_KEY</c>: the key it read.</summary>
    private async Task CheckClientKeyAsync(ComposeDeployment deployment, HttpClient https, string source)
    {
        using var jwks = await https.GetAsync($"https://127.0.0.1:{deployment.Local.ProxyHttpsPort}/atproto/oauth/jwks.json");
        var text = await jwks.Content.ReadAsStringAsync();
        var kid = jwks.StatusCode == HttpStatusCode.OK
            ? JsonDocument.Parse(text).RootElement.GetProperty("keys")[0].GetProperty("kid").GetString()
            : $"{(int)jwks.StatusCode}";
        _figures.Check($"linking JWKS names the client key ({source})", kid == deployment.ClientKeyThumbprint ? "its thumbprint" : kid ?? "(none)", "the key's thumbprint",
            kid == deployment.ClientKeyThumbprint);
        if (text.Contains("\"d\"", StringComparison.Ordinal)) _figures.Check("linking JWKS holds no private part", "it does", "public only", false);
    }

    /// <summary>Exactly one value of each header, the expected one.</summary>
    private void CheckHeaders(string upstream, HttpResponseMessage response, Dictionary<string, string> expected)
    {
        foreach (var (name, value) in expected)
        {
            var values = (response.Headers.TryGetValues(name, out var h) ? h : []).Concat(response.Content.Headers.TryGetValues(name, out var c) ? c : []).ToList();
            _figures.Check($"front door → {upstream}: {name}", values.Count == 0 ? "(none)" : string.Join(" | ", values), value, values.Count == 1 && values[0] == value);
        }
    }

    /// <summary>An HTTPS client that trusts exactly the run's front-door certificate.</summary>
    private static HttpClient ProxyClient(ComposeDeployment deployment)
    {
        var expected = deployment.ProxyCertificate.GetCertHashString(System.Security.Cryptography.HashAlgorithmName.SHA256);
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            SslOptions = new System.Net.Security.SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                    certificate is not null && string.Equals(certificate.GetCertHashString(System.Security.Cryptography.HashAlgorithmName.SHA256), expected, StringComparison.OrdinalIgnoreCase),
            },
        };
        return new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(15) };
    }

    /// <summary>
    /// The database as production runs it (#17): binary logging on, the trigger setting and the log retention from the
    /// compose file's `command:` (docker/mysqld.args), and TLS required: the services are healthy, so they connected with
    /// TLS (SslMode=Required), and a connection without TLS is refused.
    /// </summary>
    private async Task CheckDatabaseAsProductionRunsItAsync(ComposeDeployment deployment)
    {
        await using (var connection = await DeploymentDatabase.OpenAsync(deployment.RootConnectionString))
        {
            await using var command = new MySqlCommand(
                "SELECT @@GLOBAL.log_bin, @@GLOBAL.log_bin_trust_function_creators, @@GLOBAL.binlog_expire_logs_seconds, @@GLOBAL.require_secure_transport, " +
                "(SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'Ssl_version')", connection);
            await using var reader = await command.ExecuteReaderAsync();
            await reader.ReadAsync();
            var (logBin, trust, expire, secure, tls) = (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetValue(4)?.ToString() ?? "");
            _figures.Check("MySQL stand-in: log_bin, log_bin_trust_function_creators", $"{logBin}, {trust}", "1, 1 (binary logging as MySQL 8.4; `command:`)", logBin == 1 && trust == 1);
            _figures.Check("MySQL stand-in: binlog_expire_logs_seconds", expire.ToString(System.Globalization.CultureInfo.InvariantCulture), "604800 (`command:`)", expire == 604800);
            _figures.Check("MySQL stand-in: require_secure_transport; this session's TLS", $"{secure}; {tls}", "1; TLSv1.2 or later", secure == 1 && tls.StartsWith("TLSv1.", StringComparison.Ordinal) && tls != "TLSv1.1");
        }
        var plain = new MySqlConnectionStringBuilder(deployment.RootConnectionString) { SslMode = MySqlSslMode.None }.ConnectionString;
        string refused;
        try
        {
            await using var connection = await DeploymentDatabase.OpenAsync(plain);
            refused = "accepted";
        }
        catch (MySqlException ex)
        {
            refused = $"refused ({ex.ErrorCode})";
        }
        _figures.Check("MySQL stand-in: a connection without TLS", refused, "refused", refused.StartsWith("refused", StringComparison.Ordinal));
    }

    /// <summary>
    /// #16 item 8: <c>down</c>, then <c>up</c> with docker-compose.secrets.yml over the same volumes and an <c>.env</c>
    /// without any secret: every service healthy with its secrets only as <c>&lt;NAME&gt;_FILE</c>, no secret value in
    /// <c>docker inspect</c> of any container, in any log or health body; the client key read from its file (JWKS), and a
    /// linked member's post still reaches the PDS (the token keys and the forum's database password read from files).
    /// </summary>
    private async Task SecretFilesAsync(ComposeDeployment deployment, AtSync.Core.Storage.AtSyncTables tables, AtSync.Tests.QueueWorker.LoopbackPds pds)
    {
        (await deployment.ComposeAsync(["down"], TimeSpan.FromMinutes(2))).EnsureSuccess();
        deployment.UseSecretFiles();
        var up = System.Diagnostics.Stopwatch.StartNew();
        var started = await deployment.ComposeAsync(["up", "--detach", "--pull", "never"], TimeSpan.FromMinutes(3));
        if (started.ExitCode != 0)
        {
            var states = (await deployment.ComposeAsync(["ps", "--all", "--format", "{{.Service}} {{.State}} {{.Status}}"])).Output;
            var logs = await deployment.ComposeAsync(["logs", "--no-color", "--tail", "30"]);
            throw new InvalidOperationException($"`up` with the secrets override failed:\n{started.Output}\n{states}\n{logs.Output}");
        }
        await deployment.WaitForHealthAsync(ComposeDeployment.Services, "healthy", TimeSpan.FromMinutes(3));
        _figures.Seconds("secrets as files: `up -d` → all healthy", up.Elapsed.TotalSeconds, 120);

        var secrets = deployment.Secrets.Select(s => (s.Key, s.Value)).Append(("token key (base64)", Convert.ToBase64String(deployment.TokenKey))).ToList();
        var found = new List<string>();
        var fileSettings = new List<string>();
        foreach (var service in ComposeDeployment.Services)
        {
            var state = await deployment.StateAsync(service);
            var inspect = (await deployment.Docker.DockerAsync(["inspect", state.Id])).EnsureSuccess().StandardOutput;
            found.AddRange(secrets.Where(s => inspect.Contains(s.Item2, StringComparison.Ordinal)).Select(s => $"{service}: {s.Item1}"));
            using var json = JsonDocument.Parse(inspect);
            var environment = json.RootElement[0].GetProperty("Config").GetProperty("Env").EnumerateArray().Select(e => e.GetString()!).ToList();
            fileSettings.AddRange(environment.Where(e => e.Split('=')[0].EndsWith("_FILE", StringComparison.Ordinal)).Select(e => $"{service}:{e.Split('=')[0]}"));
        }
        _figures.Check($"secret values ({secrets.Count}) in `docker inspect` of the {ComposeDeployment.Services.Length} containers",
            found.Count == 0 ? "0" : string.Join(", ", found), "= 0", found.Count == 0);
        string[] expectedFiles =
        [
            "mysql:MYSQL_ROOT_PASSWORD_FILE", "mysql:MYSQL_PASSWORD_FILE", "forum:PHPBB_DB_PASSWORD_FILE", "forum:PHPBB_ADMIN_PASSWORD_FILE",
            "firehose:ConnectionStrings__phpbb_FILE", "linking:ConnectionStrings__phpbb_FILE", "linking:TOKEN_ENCRYPTION_KEYS_FILE", "linking:OAUTH_CLIENT_KEY_FILE",
            "queueworker:ConnectionStrings__phpbb_FILE", "queueworker:FORUM_APP_PASSWORD_FILE", "queueworker:TOKEN_ENCRYPTION_KEYS_FILE", "queueworker:OAUTH_CLIENT_KEY_FILE",
        ];
        var missing = expectedFiles.Except(fileSettings).ToList();
        _figures.Check("secrets as files: <NAME>_FILE settings in the containers' environment", $"{fileSettings.Count} ({(missing.Count == 0 ? "all expected" : "missing " + string.Join(", ", missing))})",
            $"{expectedFiles.Length}, all expected", missing.Count == 0 && fileSettings.Count == expectedFiles.Length);

        using var https = ProxyClient(deployment);
        await CheckClientKeyAsync(deployment, https, "OAUTH_CLIENT_KEY_FILE");

        // Still working end to end: a linked member's new post reaches the PDS through the QueueWorker.
        var before = pds.Records.Count;
        // Far above every id used before (the Firehose's topics take the auto-increment ids after the queue scenario's).
        await InsertTopicsAsync(deployment.RootConnectionString, tables, [7001], 100_000, 1);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (pds.Records.Count < before + QueueRepliesPerTopic + 1 && DateTime.UtcNow < deadline) await Task.Delay(200);
        _figures.Count("secrets as files: a linked member's new topic and replies on the PDS", pds.Records.Count - before, QueueRepliesPerTopic + 1);
        await CheckSecretsAsync(deployment);
    }
}
