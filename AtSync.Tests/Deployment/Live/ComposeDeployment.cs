using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AtSync.Tests.Infrastructure;

namespace AtSync.Tests.Deployment.Live;

/// <summary>Where the loopback peers on the host listen, and the free ports the containers get on the host network.</summary>
public sealed record LocalEnvironment(Uri RelayUrl, Uri LabelerUrl, string LabelerDid, Uri PlcUrl, Uri PdsUrl, int MysqlPort, int ForumPort, int FirehosePort, int QueueWorkerPort,
    int LinkingPort, int ProxyHttpPort, int ProxyHttpsPort);

/// <summary>One container's state as <c>docker inspect</c> reports it.</summary>
public sealed record ContainerState(string Id, string Status, string? Health, int Pid, int RestartCount, string StartedAt, bool OomKilled);

/// <summary>
/// The committed <c>docker-compose.generated.yml</c>, unchanged, plus an override file generated for this machine
/// (<c>-f docker-compose.generated.yml -f override.yml</c>), with its own project name, <c>.env</c> (secrets made
/// fresh for the run) and empty volumes. The override stands only for the local environment: host networking and
/// loopback addresses with free ports (each service's port in its health check and connection settings), local images,
/// the loopback PLC directory, no dashboard (no local image), and a short queue lease so the kill scenario does not wait
/// out the 2-minute default. The front door runs the committed docker/proxy/nginx.conf with only its listen ports and
/// upstream addresses replaced, on a certificate made by openssl for the run; the MySQL stand-in offers TLS with a
/// certificate made the same way and refuses connections without it (the services connect with SslMode=Required).
/// <see cref="UseSecretFiles"/> switches to docker-compose.secrets.yml: every secret a file, none in the environment.
/// </summary>
public sealed class ComposeDeployment
{
    public const string ComposeFileName = "docker-compose.generated.yml";
    public static readonly string[] Services = ["mysql", "forum", "firehose", "linking", "queueworker", "proxy"];
    public const string SecretsFileName = "docker-compose.secrets.yml";

    private readonly DockerHost _docker;
    private readonly string[] _compose;
    private readonly DirectoryInfo _work;
    private readonly LocalImageSet _images;
    private List<string> _files;

    public ComposeDeployment(DockerHost docker, string[] composeCommand, DirectoryInfo work, LocalImageSet images, LocalEnvironment local)
    {
        _docker = docker;
        _compose = composeCommand;
        _work = work;
        _images = images;
        Local = local;
        ProjectName = "atsync-deploy-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(4)).ToLowerInvariant();
        Secrets = new Dictionary<string, string>
        {
            ["MYSQL_ROOT_PASSWORD"] = "root-" + Token(18),
            ["MYSQL_PASSWORD"] = "atsync-" + Token(18),
            ["PHPBB_ADMIN_PASSWORD"] = "admin-" + Token(14),
            ["FORUM_APP_PASSWORD"] = "pds-token-" + Token(24),
        };
        TokenKey = RandomNumberGenerator.GetBytes(32);
        Secrets["TOKEN_ENCRYPTION_KEYS"] = $"{{\"v1\":\"{Convert.ToBase64String(TokenKey)}\"}}";
        // A confidential OAuth client: its key is a secret like the others (and its JWKS shows which key was read).
        using (var clientKey = AtSync.AtProto.OAuth.DpopKey.Generate())
        {
            Secrets["OAUTH_CLIENT_KEY"] = clientKey.ExportPrivateKey();
            ClientKeyThumbprint = clientKey.Thumbprint;
        }
        // Readable by the containers' users (999, 33, 1654, 101): the work folder is the test's own temporary folder.
        TestCertificates.Chmod(work.FullName, (UnixFileMode)0b111_101_101);
        ProxyCertificate = TestCertificates.SelfSigned(Path.Combine(work.FullName, "proxy-tls"), "fullchain.pem", "privkey.pem");
        MysqlCertificate = TestCertificates.SelfSigned(Path.Combine(work.FullName, "mysql-tls"), "cert.pem", "key.pem", caFile: "ca.pem");
        EnvFile = Path.Combine(work.FullName, "deploy.env");
        OverrideFile = Path.Combine(work.FullName, "docker-compose.override.yml");
        ProxyConfigFile = Path.Combine(work.FullName, "nginx.conf");
        File.WriteAllText(EnvFile, EnvText(images, withSecrets: true));
        File.WriteAllText(OverrideFile, OverrideText(images, local));
        File.WriteAllText(ProxyConfigFile, ProxyConfig(local));
        _files = [Path.Combine(RepositoryPaths.Root, ComposeFileName), OverrideFile];
    }

    /// <summary>The front door's certificate (openssl, made for this run): the test's HTTPS client trusts exactly it.</summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2 ProxyCertificate { get; }

    public System.Security.Cryptography.X509Certificates.X509Certificate2 MysqlCertificate { get; }

    public string ProxyConfigFile { get; }

    /// <summary>The JWK thumbprint of <c>OAUTH_CLIENT_KEY</c> (the linking service's JWKS names its key by it).</summary>
    public string ClientKeyThumbprint { get; }

    /// <summary>The public URL the linking service is told (the front door's https origin, /atproto/).</summary>
    public string LinkingPublicUrl => $"https://127.0.0.1:{Local.ProxyHttpsPort}/atproto/";

    /// <summary>Whether <see cref="UseSecretFiles"/> is in effect.</summary>
    public bool SecretFilesInUse { get; private set; }

    /// <summary>
    /// From now on, <c>-f docker-compose.secrets.yml</c> too (after the machine's override, whose inline connection strings
    /// it resets), every secret a file of this run's secrets folder, and an <c>.env</c> without any secret value.
    /// </summary>
    public void UseSecretFiles()
    {
        var secrets = Directory.CreateDirectory(Path.Combine(_work.FullName, "secrets"));
        TestCertificates.Chmod(secrets.FullName, (UnixFileMode)0b111_101_101);
        var files = new Dictionary<string, string>
        {
            ["mysql_root_password"] = Secrets["MYSQL_ROOT_PASSWORD"],
            ["mysql_password"] = Secrets["MYSQL_PASSWORD"],
            ["phpbb_admin_password"] = Secrets["PHPBB_ADMIN_PASSWORD"],
            ["atsync_connection_string"] = ServiceConnectionString(Local, Secrets["MYSQL_PASSWORD"]),
            ["forum_app_password"] = Secrets["FORUM_APP_PASSWORD"],
            ["token_encryption_keys"] = Secrets["TOKEN_ENCRYPTION_KEYS"],
            ["oauth_client_key"] = Secrets["OAUTH_CLIENT_KEY"],
        };
        var paths = new StringBuilder("# Generated by the deployment test: where this run keeps the secret files.\nsecrets:\n");
        foreach (var (name, value) in files)
        {
            var path = Path.Combine(secrets.FullName, name);
            // As an operator writes them: `printf '%s\n' … > file` (one trailing newline, not part of the value).
            File.WriteAllText(path, value + "\n");
            TestCertificates.Chmod(path, (UnixFileMode)0b100_100_100);
            paths.Append($"  {name}:\n    file: {JsonSerializer.Serialize(path)}\n");
        }
        var pathsFile = Path.Combine(_work.FullName, "docker-compose.secret-paths.yml");
        File.WriteAllText(pathsFile, paths.ToString());
        EnvFile = Path.Combine(_work.FullName, "deploy-no-secrets.env");
        File.WriteAllText(EnvFile, EnvText(_images, withSecrets: false));
        // The secrets override right after the generated file: Compose 2.26 applies a `!reset` to the files before it
        // only up to the first override, so the machine's override comes after it and sets no connection string.
        var machine = Path.Combine(_work.FullName, "docker-compose.override-secret-files.yml");
        File.WriteAllText(machine, OverrideText(_images, Local, inlineConnectionStrings: false));
        _files = [Path.Combine(RepositoryPaths.Root, ComposeFileName), Path.Combine(RepositoryPaths.Root, SecretsFileName), machine, pathsFile];
        SecretFilesInUse = true;
    }

    /// <summary>The services' connection string on this machine: the stand-in on loopback, TLS required as in the compose file.</summary>
    private static string ServiceConnectionString(LocalEnvironment local, string password) =>
        $"Server=127.0.0.1;Port={local.MysqlPort};User ID=atsync;Password={password};Database=phpbb;SslMode=Required";

    public string ProjectName { get; }
    public DockerHost Docker => _docker;
    public LocalEnvironment Local { get; }
    public string EnvFile { get; private set; }
    public string OverrideFile { get; }

    /// <summary>The .env secrets of this run (none may appear in a log or a health body).</summary>
    public Dictionary<string, string> Secrets { get; }

    public byte[] TokenKey { get; }

    public string RootConnectionString => $"Server=127.0.0.1;Port={Local.MysqlPort};User ID=root;Password={Secrets["MYSQL_ROOT_PASSWORD"]};Database=phpbb;Connection Timeout=5;Pooling=false;SslMode=Required";

    public int HealthPort(string service) => service switch
    {
        "firehose" => Local.FirehosePort,
        "queueworker" => Local.QueueWorkerPort,
        "linking" => Local.LinkingPort,
        "forum" => Local.ForumPort,
        _ => throw new ArgumentOutOfRangeException(nameof(service)),
    };

    private static string Token(int bytes) => Convert.ToHexString(RandomNumberGenerator.GetBytes(bytes)).ToLowerInvariant();

    /// <summary>The run's <c>.env</c>; without its secrets (every one empty) when they are files.</summary>
    private string EnvText(LocalImageSet images, bool withSecrets) => string.Join('\n', new[]
    {
        "# Generated by the deployment test for one run (git-ignored work folder).",
        $"MYSQL_ROOT_PASSWORD={(withSecrets ? Secrets["MYSQL_ROOT_PASSWORD"] : "")}",
        $"MYSQL_PASSWORD={(withSecrets ? Secrets["MYSQL_PASSWORD"] : "")}",
        $"PHPBB_ADMIN_PASSWORD={(withSecrets ? Secrets["PHPBB_ADMIN_PASSWORD"] : "")}",
        "PHPBB_ADMIN_EMAIL=admin@example.com",
        $"FORUM_DID={ServiceSettings.ForumDid}",
        $"FORUM_PDS_URL={Local.PdsUrl}",
        $"FORUM_APP_PASSWORD={(withSecrets ? Secrets["FORUM_APP_PASSWORD"] : "")}",
        $"TOKEN_ENCRYPTION_KEYS='{(withSecrets ? Secrets["TOKEN_ENCRYPTION_KEYS"] : "")}'",
        $"OAUTH_CLIENT_KEY={(withSecrets ? Secrets["OAUTH_CLIENT_KEY"] : "")}",
        $"LINKING_PUBLIC_URL={LinkingPublicUrl}",
        $"LINKING_IMAGE={images.Linking}",
        "TOKEN_ENCRYPTION_KEY_VERSION=v1",
        "LOG_LEVEL=Information",
        $"RELAY_URL={Local.RelayUrl}",
        $"LABELER_DID={Local.LabelerDid}",
        $"LABELER_URL={Local.LabelerUrl}",
        $"FORUM_IMAGE={images.Forum}",
        $"FIREHOSE_IMAGE={images.Firehose}",
        $"QUEUEWORKER_IMAGE={images.QueueWorker}",
        "",
    });

    private string OverrideText(LocalImageSet images, LocalEnvironment local, bool inlineConnectionStrings = true)
    {
        string Host(string service) => $"""
              {service}:
                network_mode: host
                networks: !reset []

            """;
        string Probe(params string[] test) => "    healthcheck:\n      test: [" + string.Join(", ", test.Select(t => JsonSerializer.Serialize(t))) + "]\n";
        string ServiceEnvironment(int port) => $"""
                environment:
                  HTTP_PORTS: "{port}"
                  ASPNETCORE_URLS: "http://127.0.0.1:{port}"
                  {(inlineConnectionStrings ? $"ConnectionStrings__phpbb: \"{ServiceConnectionString(local, "${MYSQL_PASSWORD}")}\"" : "# ConnectionStrings__phpbb_FILE (docker-compose.secrets.yml)")}
                  OTEL_EXPORTER_OTLP_ENDPOINT: ""

            """;
        var text = new StringBuilder();
        text.Append("""
            # Generated by AtSync.Tests/Deployment/Live for one run: the local environment only (host networking,
            # loopback addresses, free ports, local images). The deployment itself is docker-compose.generated.yml.
            services:
              compose-dashboard:
                # No local image of the Aspire dashboard: not started (nothing depends on it).
                profiles: ["aspire-dashboard"]
                network_mode: host
                networks: !reset []
                ports: !reset []

            """);
        text.Append(Host("mysql"));
        text.Append($"    image: \"{images.Mysql}\"\n");
        // The port and address go to the stand-in's entrypoint, so the compose file's own `command:` (if any) stays.
        text.Append($"    environment:\n      MYSQL_STANDIN_PORT: \"{local.MysqlPort}\"\n      MYSQL_STANDIN_BIND_ADDRESS: \"127.0.0.1\"\n");
        text.Append($"      MYSQL_STANDIN_TLS_DIR: \"{MysqlTlsTarget}\"\n");
        text.Append(Mount(Path.Combine(_work.FullName, "mysql-tls"), MysqlTlsTarget));
        text.Append(Probe("CMD", "mysqladmin", "ping", "--host=127.0.0.1", $"--port={local.MysqlPort}", "--silent"));
        text.Append(Host("forum"));
        text.Append($"    image: \"{images.Forum}\"\n    build: !reset null\n    ports: !reset []\n");
        text.Append($"""
                environment:
                  PHPBB_DB_HOST: "127.0.0.1"
                  PHPBB_DB_PORT: "{local.MysqlPort}"
                  FORUM_STANDIN_PORT: "{local.ForumPort}"
                  FORUM_STANDIN_LOOPBACK: "1"
                  FORUM_STANDIN_DB_TLS_CA: "{MysqlTlsTarget}/ca.pem"

            """);
        text.Append(Mount(Path.Combine(_work.FullName, "mysql-tls"), MysqlTlsTarget));
        text.Append(Probe("CMD", "curl", "--fail", "--silent", "--output", "/dev/null", $"http://127.0.0.1:{local.ForumPort}/healthz.php"));
        text.Append(Host("firehose"));
        text.Append(ServiceEnvironment(local.FirehosePort));
        text.Append($"      PLC_DIRECTORY_URL: \"{local.PlcUrl}\"\n");
        text.Append($"      IDENTITY_ALLOWED_HOSTS: \"127.0.0.1\"\n");
        // As the clean reference pass runs (ServiceSettings.For): keys from the loopback PLC are waited for, and the
        // test authors' posts are not held in phpBB's moderation queue.
        text.Append("      Firehose__KeyDeadline: \"00:00:10\"\n");
        text.Append("      NETWORK_MODERATION: \"none\"\n");
        text.Append(Probe("CMD", "wget", "--quiet", "--spider", $"http://127.0.0.1:{local.FirehosePort}/health"));
        text.Append(Host("queueworker"));
        text.Append(ServiceEnvironment(local.QueueWorkerPort));
        text.Append("      QueueWorker__LeaseDuration: \"00:00:10\"\n");
        text.Append(Probe("CMD", "wget", "--quiet", "--spider", $"http://127.0.0.1:{local.QueueWorkerPort}/health"));
        text.Append(Host("linking"));
        text.Append(ServiceEnvironment(local.LinkingPort));
        text.Append($"      PLC_DIRECTORY_URL: \"{local.PlcUrl}\"\n");
        text.Append(Probe("CMD", "wget", "--quiet", "--spider", $"http://127.0.0.1:{local.LinkingPort}/health"));
        text.Append(Host("proxy"));
        text.Append($"    image: \"{images.Proxy}\"\n    ports: !reset []\n");
        // Same targets as the compose file's mounts, so these replace them: the config with this machine's ports and
        // addresses, and this run's certificate.
        text.Append("    volumes:\n");
        text.Append($"      - {{ type: bind, source: {JsonSerializer.Serialize(ProxyConfigFile)}, target: /etc/nginx/nginx.conf, read_only: true }}\n");
        text.Append($"      - {{ type: bind, source: {JsonSerializer.Serialize(Path.Combine(_work.FullName, "proxy-tls"))}, target: /etc/nginx/tls, read_only: true }}\n");
        text.Append(Probe("CMD", "wget", "--quiet", "--spider", $"http://127.0.0.1:{local.ProxyHttpPort}/nginx-health"));
        return text.ToString();
    }

    private const string MysqlTlsTarget = "/etc/mysql/tls";

    private static string Mount(string source, string target) =>
        $"    volumes:\n      - {{ type: bind, source: {JsonSerializer.Serialize(source)}, target: {target}, read_only: true }}\n";

    /// <summary>
    /// docker/proxy/nginx.conf as committed, with only what host networking changes: its two listen ports and the two
    /// upstream addresses (compose service names → loopback ports). Each replaced text must occur exactly once.
    /// </summary>
    public static string ProxyConfig(LocalEnvironment local)
    {
        var config = File.ReadAllText(Path.Combine(RepositoryPaths.Root, "docker", "proxy", "nginx.conf"));
        foreach (var (committed, local_) in new[]
                 {
                     ("listen 8000 default_server;", $"listen 127.0.0.1:{local.ProxyHttpPort} default_server;"),
                     ("listen 8443 ssl default_server;", $"listen 127.0.0.1:{local.ProxyHttpsPort} ssl default_server;"),
                     ("set $atsync_forum http://forum:8080;", $"set $atsync_forum http://127.0.0.1:{local.ForumPort};"),
                     ("set $atsync_linking http://linking:8083;", $"set $atsync_linking http://127.0.0.1:{local.LinkingPort};"),
                 })
        {
            var count = config.Split(committed).Length - 1;
            if (count != 1) throw new InvalidOperationException($"docker/proxy/nginx.conf holds \"{committed}\" {count} times, not once: update the deployment test");
            config = config.Replace(committed, local_, StringComparison.Ordinal);
        }
        return config;
    }

    /// <summary><c>docker compose -p … --env-file … -f docker-compose.generated.yml -f override.yml ARGS</c>, from the repository root.</summary>
    public Task<CommandResult> ComposeAsync(IEnumerable<string> arguments, TimeSpan? timeout = null) =>
        CommandRunner.RunAsync(_compose[0],
            [.. _compose.Skip(1), "--ansi", "never", "--project-name", ProjectName, "--env-file", EnvFile, .. _files.SelectMany(f => new[] { "-f", f }), .. arguments],
            _docker.Environment, timeout ?? TimeSpan.FromMinutes(3), RepositoryPaths.Root);

    /// <summary><c>docker compose config --format json</c> of the deployment itself: the committed file (and the secrets override when in use) with this run's .env, without the machine's override.</summary>
    public Task<CommandResult> ComposeConfigWithoutOverrideAsync() =>
        CommandRunner.RunAsync(_compose[0],
            [.. _compose.Skip(1), "--ansi", "never", "--project-name", ProjectName, "--env-file", EnvFile,
             .. _files.Where(f => f.StartsWith(RepositoryPaths.Root, StringComparison.Ordinal)).SelectMany(f => new[] { "-f", f }), "config", "--format", "json"],
            _docker.Environment, TimeSpan.FromMinutes(1), RepositoryPaths.Root);

    public async Task<ContainerState> StateAsync(string service)
    {
        var id = (await ComposeAsync(["ps", "--all", "--quiet", service])).EnsureSuccess().StandardOutput.Trim();
        if (id.Length == 0) throw new InvalidOperationException($"no container for {service}");
        var json = (await _docker.DockerAsync(["inspect", "--format", "{{json .}}", id])).EnsureSuccess().StandardOutput;
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        var state = root.GetProperty("State");
        var health = state.TryGetProperty("Health", out var h) && h.ValueKind == JsonValueKind.Object ? h.GetProperty("Status").GetString() : null;
        return new ContainerState(id, state.GetProperty("Status").GetString()!, health, state.GetProperty("Pid").GetInt32(),
            root.GetProperty("RestartCount").GetInt32(), state.GetProperty("StartedAt").GetString()!, state.GetProperty("OOMKilled").GetBoolean());
    }

    /// <summary>Polls until every one of <paramref name="services"/> has Docker health <paramref name="health"/>; returns the seconds it took.</summary>
    public async Task<double> WaitForHealthAsync(IReadOnlyList<string> services, string health, TimeSpan timeout)
    {
        var started = DateTime.UtcNow;
        var last = new Dictionary<string, string>();
        while (DateTime.UtcNow - started < timeout)
        {
            var all = true;
            foreach (var service in services)
            {
                var state = await StateAsync(service);
                last[service] = $"{state.Status}/{state.Health ?? "no health"} (restarts {state.RestartCount})";
                all &= state.Health == health;
            }
            if (all) return (DateTime.UtcNow - started).TotalSeconds;
            await Task.Delay(500);
        }
        var logs = (await ComposeAsync(["logs", "--no-color", "--tail", "40"])).Output;
        throw new TimeoutException($"not all of {string.Join(", ", services)} became {health} within {timeout.TotalSeconds} s: "
            + string.Join("; ", last.Select(kv => $"{kv.Key} {kv.Value}")) + "\n" + logs);
    }

    /// <summary>The service's container log (<c>docker compose logs</c>), without prefixes.</summary>
    public async Task<string> LogsAsync(string? service = null) =>
        LiveComposeDeploymentTests.StripAnsi((await ComposeAsync(service is null ? ["logs", "--no-color"] : ["logs", "--no-color", "--no-log-prefix", service])).EnsureSuccess().Output);

    /// <summary>The memory each running container uses now (<c>docker stats --no-stream</c>), in MiB, by service.</summary>
    public async Task<Dictionary<string, double>> MemoryAsync()
    {
        var result = await _docker.DockerAsync(["stats", "--no-stream", "--format", "{{.Name}}\t{{.MemUsage}}"], TimeSpan.FromSeconds(30));
        var usage = new Dictionary<string, double>();
        if (result.ExitCode != 0) return usage;
        foreach (var line in result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Split('\t');
            if (parts.Length != 2 || !parts[0].StartsWith(ProjectName + "-", StringComparison.Ordinal)) continue;
            var service = parts[0][(ProjectName.Length + 1)..];
            service = service[..service.LastIndexOf('-')];
            usage[service] = ParseMebibytes(parts[1].Split('/')[0].Trim());
        }
        return usage;
    }

    /// <summary>The compose memory limit of <paramref name="service"/>, in MiB (from the committed file).</summary>
    public static double MemoryLimitMebibytes(string service)
    {
        var compose = ComposeFile.Load(Path.Combine(RepositoryPaths.Root, ComposeFileName));
        return ParseMebibytes(compose[service].MemoryLimit ?? throw new InvalidOperationException($"{service} has no memory limit"));
    }

    public static double ParseMebibytes(string text)
    {
        text = text.Trim();
        var number = new string([.. text.TakeWhile(c => char.IsDigit(c) || c == '.')]);
        var unit = text[number.Length..].Trim().ToLowerInvariant();
        var value = double.Parse(number, CultureInfo.InvariantCulture);
        return unit switch
        {
            "b" => value / 1048576,
            "kib" or "kb" or "k" => value / 1024,
            "mib" or "mb" or "m" => value,
            "gib" or "gb" or "g" => value * 1024,
            _ => throw new FormatException($"unknown memory unit in '{text}'"),
        };
    }
}
