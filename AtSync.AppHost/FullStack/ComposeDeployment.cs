using Aspire.Hosting.Docker;
using Aspire.Hosting.Docker.Resources.ComposeNodes;
using Aspire.Hosting.Docker.Resources.ServiceNodes;
using Aspire.Hosting.Docker.Resources.ServiceNodes.Swarm;

namespace AtSync.AppHost;

/// <summary>
/// How each resource becomes a Docker Compose service in <c>aspire publish</c>: health check, restart policy,
/// stop grace period, resource limits, non-root user, dependencies on healthy services, defaults for plain variables,
/// and the comments of the generated <c>.env</c>.
/// </summary>
/// <remarks>
/// Containers use the compose network's service names, not <c>network_mode: host</c>: the connection strings name the
/// host <c>mysql</c>, and only the front door is published. Each service has its own port inside its container, so a
/// host that needs host networking (some restricted hosts do) only changes addresses, in an override file (compose
/// rejects <c>network_mode: host</c> beside the <c>networks</c> Aspire writes; README: Docker Compose).
/// </remarks>
internal static class ComposeDeployment
{
    // Paths relative to the AppHost project (for Aspire) and to the repository root (where the compose file lives).
    public const string MySqlConfigSource = "../docker/my.cnf";
    public const string MySqlConfigTarget = "/etc/mysql/conf.d/atsync.cnf";
    public const string MySqlInitSource = "../docker/init.sql";
    public const string MySqlInitTarget = "/docker-entrypoint-initdb.d/10-atsync.sql";

    private static readonly Dictionary<string, string> RepositoryPathsByTarget = new()
    {
        [MySqlConfigTarget] = "./docker/my.cnf",
        [MySqlInitTarget] = "./docker/init.sql",
        [FrontDoor.ConfigTarget] = "./docker/proxy/nginx.conf",
        [FrontDoor.TlsTarget] = "./secrets/tls",
    };

    /// <summary>Default for <c>FORUM_IMAGE</c>: the tag the compose file's own <c>build:</c> gives the phpBB image.</summary>
    public const string PhpbbImageDefault = "atsync/phpbb:3.3.17";

    /// <summary>Memory and CPU limits per service (compose <c>deploy.resources.limits</c>).</summary>
    private static readonly Dictionary<string, (string Cpus, string Memory)> Limits = new()
    {
        ["mysql"] = ("1.0", "1g"),
        ["forum"] = ("0.5", "512m"),
        ["firehose"] = ("1.0", "512m"),
        ["queueworker"] = ("0.5", "384m"),
        ["linking"] = ("0.5", "384m"),
        ["proxy"] = ("0.5", "256m"),
        ["compose-dashboard"] = ("0.5", "512m"),
        ["prometheus"] = ("0.5", "512m"),
        ["grafana"] = ("0.5", "256m"),
        ["cadvisor"] = ("0.3", "256m"),
        ["mysqld-exporter"] = ("0.2", "64m"),
    };

    /// <summary>Each .NET service's port inside its container (HTTP_PORTS; AtSyncApplication).</summary>
    private static readonly Dictionary<string, int> ServicePorts = new()
    {
        ["firehose"] = AtSyncApplication.FirehoseHttpPort,
        ["queueworker"] = AtSyncApplication.QueueWorkerHttpPort,
        ["linking"] = AtSyncApplication.LinkingHttpPort,
    };

    /// <summary>Graceful shutdown budget: SIGTERM, then SIGKILL after this (docs/design.md: under 30 s).</summary>
    public const string StopGracePeriod = "30s";

    /// <summary>Non-root users: MySQL's <c>mysql</c> (999), Debian's <c>www-data</c> (33), .NET images' <c>app</c> (1654).</summary>
    public const string MySqlUser = "999:999";
    public const string PhpbbUser = "33:33";
    public const string DotNetUser = "1654:1654";
    /// <summary>The official nginx image's own non-root user.</summary>
    public const string NginxUser = "101:101";

    /// <summary>
    /// Health: probed every 10 s, unhealthy after 3 failures in a row (about 30-45 s after a dependency is lost,
    /// within the 60 s an operator's monitoring expects).
    /// </summary>
    public const int HealthRetries = 3;

    public static void MySql(DockerComposeServiceResource resource, Service service)
    {
        Harden(service, "mysql", MySqlUser);
        // TCP, not the socket: during first-start initialisation the image runs a socket-only temporary server,
        // which must not count as healthy. mysqladmin ping exits 0 whenever the server answers.
        service.Healthcheck = Check(["CMD", "mysqladmin", "ping", "--host=127.0.0.1", "--port=3306", "--silent"], startPeriod: "60s");
        RepositoryBindMounts(service);
    }

    /// <summary>Bind mounts of repository files point at them relative to the compose file (no host path to fill in).</summary>
    private static void RepositoryBindMounts(Service service)
    {
        foreach (var volume in service.Volumes.Where(v => v.Type == "bind" && v.Target is not null && RepositoryPathsByTarget.ContainsKey(v.Target)))
        {
            volume.Source = RepositoryPathsByTarget[volume.Target!];
        }
    }

    public static void Proxy(Service service)
    {
        Harden(service, "proxy", NginxUser);
        // Aspire writes a digest-pinned image without its tag; keep both (the tag says which version the digest is).
        service.Image = $"{FrontDoor.Image}:{FrontDoor.ImageTag}@{FrontDoor.ImageDigest}";
        // Alpine's busybox wget; /nginx-health answers on the plain-http listener to loopback only (docker/proxy/nginx.conf).
        service.Healthcheck = Check(["CMD", "wget", "--quiet", "--spider", $"http://127.0.0.1:{FrontDoor.ContainerHttpPort}/nginx-health"], startPeriod: "10s");
        RepositoryBindMounts(service);
    }

    public static void Phpbb(AtSyncParameters parameters, Service service)
    {
        Harden(service, "forum", PhpbbUser);
        service.Image = $"${{FORUM_IMAGE:-{PhpbbImageDefault}}}";
        service.Build = new Build { Context = "./docker", Dockerfile = "phpbb/Dockerfile" };
        service.Healthcheck = Check(["CMD", "curl", "--fail", "--silent", "--output", "/dev/null", $"http://127.0.0.1:{AtSyncApplication.ContainerHttpPort}/healthz.php"], startPeriod: "90s");
        ApplyDefaults(parameters, service);
    }

    public static void DotNetService(AtSyncParameters parameters, Service service, string name)
    {
        Harden(service, name, DotNetUser);
        // The images are built on an Alpine runtime base (ServiceBaseImage): busybox wget is the HTTP client.
        service.Healthcheck = Check(["CMD", "wget", "--quiet", "--spider", $"http://127.0.0.1:{ServicePorts[name]}/health"], startPeriod: "30s");
        ApplyDefaults(parameters, service);
    }

    public static void Dashboard(Service service)
    {
        Harden(service, "compose-dashboard", user: null);
        // The dashboard image is distroless (no shell, no HTTP client): nothing in it can probe its own endpoint, so
        // the check is declared off rather than faked. No service depends on the dashboard.
        service.Healthcheck = new Healthcheck { Test = ["NONE"], Interval = "30s", Timeout = "5s", StartPeriod = "0s" };
    }

    /// <summary>A monitoring service (Monitoring.cs): hardened like the rest, behind the compose profile <c>monitoring</c>.</summary>
    public static void Monitor(Service service, string name, Action<Service> shape)
    {
        Harden(service, name, user: null);
        service.Profiles = [Monitoring.ComposeProfile];
        shape(service);
    }

    private static void Harden(Service service, string name, string? user)
    {
        service.Restart = "unless-stopped";
        service.StopGracePeriod = StopGracePeriod;
        service.User = user;
        var (cpus, memory) = Limits[name];
        service.Deploy = new Deploy { Resources = new Resources { Limits = new ResourceSpec { Cpus = cpus, Memory = memory } } };
        // Aspire emits `service_started` for WaitFor; every service waited for has a health check, so wait for healthy.
        foreach (var dependency in service.DependsOn.Values)
        {
            dependency.Condition = "service_healthy";
        }
    }

    internal static Healthcheck Check(List<string> test, string startPeriod) => new()
    {
        Test = test,
        Interval = "10s",
        Timeout = "5s",
        Retries = HealthRetries,
        StartPeriod = startPeriod,
    };

    /// <summary>Plain variables left empty in <c>.env</c> fall back to the AppHost's defaults: <c>${VAR:-default}</c>.</summary>
    private static void ApplyDefaults(AtSyncParameters parameters, Service service)
    {
        foreach (var (key, value) in service.Environment.ToList())
        {
            foreach (var (variable, defaultValue) in parameters.ComposeDefaults)
            {
                var placeholder = $"${{{variable}}}";
                if (value.Contains(placeholder, StringComparison.Ordinal))
                {
                    service.Environment[key] = value.Replace(placeholder, $"${{{variable}:-{defaultValue}}}", StringComparison.Ordinal);
                }
            }
        }
    }

    /// <summary>One comment per variable of the generated <c>.env</c>: what it is and how to produce it.</summary>
    public static void DescribeVariables(IDictionary<string, CapturedEnvironmentVariable> variables)
    {
        // The bind mounts point at ./docker/, ./ops/, ./secrets/tls or fixed host paths in the compose file itself; no host path to fill in.
        foreach (var key in variables.Keys.Where(k => k.Contains("_BINDMOUNT_", StringComparison.Ordinal)).ToList())
        {
            variables.Remove(key);
        }

        foreach (var (key, variable) in variables)
        {
            if (EnvironmentComments.TryGetValue(key, out var comment))
            {
                variable.Description = comment;
            }
        }
    }

    public static readonly IReadOnlyDictionary<string, string> EnvironmentComments = new Dictionary<string, string>
    {
        ["PHPBB"] = "Secret. Existing-forum mode: connection string of the forum's MySQL database for both services, e.g. Server=db.example.com;Port=3306;User ID=atsync;Password=<password>;Database=phpbb",
        ["MYSQL_ROOT_PASSWORD"] = "Secret. MySQL root password, for administration only (the services use MYSQL_PASSWORD). Generate: openssl rand -base64 24",
        ["MYSQL_PASSWORD"] = "Secret. Password of the non-root MySQL account `atsync` used by phpBB and both services (created on the first start of an empty data volume). Generate: openssl rand -base64 24",
        ["PHPBB_ADMIN_PASSWORD"] = "Secret. Password of the phpBB administrator `admin` created by the unattended install on first start (at least 6 characters). Generate: openssl rand -base64 18",
        ["PHPBB_ADMIN_EMAIL"] = $"E-mail address of the phpBB administrator and board contact. Empty means {ForumStack.DefaultAdminEmail}",
        ["FORUM_APP_PASSWORD"] = "Secret. App password of the forum's own account (FORUM_DID) on FORUM_PDS_URL (create one in the account's settings: App passwords); the QueueWorker signs in with it and publishes phpBB's forums as board records",
        ["FORUM_HANDLE"] = "Optional. Handle of the forum's own account (e.g. forum.example.com): the QueueWorker signs in with it instead of FORUM_DID; the session must still be FORUM_DID's. Empty means FORUM_DID",
        ["TOKEN_ENCRYPTION_KEYS"] = "Secret. JSON map key version -> base64 of 32 random bytes, e.g. {\"v1\":\"<key>\"}; generate: printf '{\"v1\":\"%s\"}' \"$(openssl rand -base64 32)\"",
        ["TOKEN_ENCRYPTION_KEY_VERSION"] = "Key version for new token writes; must be a key of TOKEN_ENCRYPTION_KEYS. Empty means v1. Rotation: add the new version to TOKEN_ENCRYPTION_KEYS, set this to it, restart, let the QueueWorker re-encrypt (every refresh writes the current version), then remove the old version",
        ["FORUM_DID"] = "The forum's own DID, e.g. did:plc:abc123... or did:web:forum.example.com",
        ["FORUM_PDS_URL"] = "URL of the forum's PDS (http or https), e.g. https://pds.example.com",
        ["RELAY_URL"] = $"Relay firehose URL (ws or wss). Empty means {AtSyncParameters.DefaultRelayUrl}",
        ["LABELER_DID"] = "DID of the Ozone labeler whose labels hide or flag posts. Empty means FORUM_DID",
        ["LABELER_URL"] = "Service URL of the labeler (its com.atproto.label.subscribeLabels stream). Empty means FORUM_PDS_URL",
        ["PLC_DIRECTORY_URL"] = $"PLC directory the Firehose resolves did:plc documents from (the signing keys of commits). Empty means {AtSyncParameters.DefaultPlcDirectoryUrl}",
        ["IDENTITY_ALLOWED_HOSTS"] = "Comma-separated host names the Firehose's identity fetches (PLC, did:web, handles) may reach although they resolve to loopback or private addresses, e.g. a private PLC mirror. Empty means public addresses only",
        ["LOG_LEVEL"] = $"Default minimum log level of the AtSync services: Trace, Debug, Information, Warning, Error, Critical or None. Empty means {AtSyncParameters.DefaultLogLevel}",
        ["GRAFANA_ADMIN_PASSWORD"] = "Secret. Password of Grafana's `admin` account (compose profile `monitoring`: docker compose --profile monitoring up -d). Generate: openssl rand -base64 18",
        ["FORUM_IMAGE"] = $"phpBB image of the forum service; built from ./docker by `docker compose build forum`. Empty means {PhpbbImageDefault}",
        ["FIREHOSE_IMAGE"] = "AtSync.Firehose image, pinned by tag, e.g. atsync/firehose:1.0.0; build: dotnet publish AtSync.Firehose -t:PublishContainer -p:ContainerBaseImage=" + AtSyncApplication.ServiceBaseImage + " -p:ContainerRepository=atsync/firehose -p:ContainerImageTag=1.0.0",
        ["LINKING_PUBLIC_URL"] = "Where forum members reach the linking service: the front door's https origin (phpBB's) with the path /atproto/, ending in '/', e.g. https://forum.example.com/atproto/ (the OAuth client_id is {LINKING_PUBLIC_URL}oauth/client-metadata.json)",
        ["OAUTH_CLIENT_KEY"] = "Secret, optional. base64url PKCS#8 P-256 key making AtSync a confidential OAuth client (private_key_jwt; never a DPoP key); empty for a public client. Generate: openssl ecparam -name prime256v1 -genkey -noout | openssl pkcs8 -topk8 -nocrypt -outform DER | basenc --base64url -w0 | tr -d =",
        ["LINKING_IMAGE"] = "AtSync.Linking image, pinned by tag, e.g. atsync/linking:1.0.0; build: dotnet publish AtSync.Linking -t:PublishContainer -p:ContainerBaseImage=" + AtSyncApplication.ServiceBaseImage + " -p:ContainerRepository=atsync/linking -p:ContainerImageTag=1.0.0",
        ["QUEUEWORKER_IMAGE"] = "AtSync.QueueWorker image, pinned by tag, e.g. atsync/queueworker:1.0.0; build: dotnet publish AtSync.QueueWorker -t:PublishContainer -p:ContainerBaseImage=" + AtSyncApplication.ServiceBaseImage + " -p:ContainerRepository=atsync/queueworker -p:ContainerImageTag=1.0.0",
    };
}
