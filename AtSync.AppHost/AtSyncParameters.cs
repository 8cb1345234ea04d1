namespace AtSync.AppHost;

/// <summary>
/// The AppHost's parameters: one per setting of docs/design.md. Values come from configuration
/// (<c>Parameters:&lt;name&gt;</c>: user secrets, environment <c>Parameters__&lt;name&gt;</c>, or the dashboard's prompt);
/// in the Docker Compose deployment each becomes a <c>${NAME}</c> variable of the <c>.env</c> file.
/// </summary>
internal sealed class AtSyncParameters
{
    public const string DefaultRelayUrl = "wss://bsky.network/xrpc/com.atproto.sync.subscribeRepos";
    public const string DefaultKeyVersion = "v1";
    public const string DefaultLogLevel = "Information";
    public const string DefaultAdminEmail = "admin@example.com";

    public required IResourceBuilder<ParameterResource> MySqlRootPassword { get; init; }
    public required IResourceBuilder<ParameterResource> MySqlPassword { get; init; }
    public required IResourceBuilder<ParameterResource> ForumPdsAccessToken { get; init; }
    public required IResourceBuilder<ParameterResource> TokenEncryptionKeys { get; init; }
    public required IResourceBuilder<ParameterResource> PhpbbAdminPassword { get; init; }
    public required IResourceBuilder<ParameterResource> PhpbbAdminEmail { get; init; }
    public required IResourceBuilder<ParameterResource> ForumDid { get; init; }
    public required IResourceBuilder<ParameterResource> ForumPdsUrl { get; init; }
    public required IResourceBuilder<ParameterResource> TokenEncryptionKeyVersion { get; init; }
    public required IResourceBuilder<ParameterResource> RelayUrl { get; init; }
    public required IResourceBuilder<ParameterResource> LabelerDid { get; init; }
    public required IResourceBuilder<ParameterResource> LabelerUrl { get; init; }
    public required IResourceBuilder<ParameterResource> LogLevel { get; init; }

    /// <summary>Defaults the Docker Compose file applies when a plain variable is left empty in <c>.env</c>.</summary>
    public IReadOnlyDictionary<string, string> ComposeDefaults { get; } = new Dictionary<string, string>
    {
        ["TOKEN_ENCRYPTION_KEY_VERSION"] = DefaultKeyVersion,
        ["RELAY_URL"] = DefaultRelayUrl,
        ["LOG_LEVEL"] = DefaultLogLevel,
        ["PHPBB_ADMIN_EMAIL"] = DefaultAdminEmail,
        // Empty: the services then use the forum's own DID and PDS (docs/design.md).
        ["LABELER_DID"] = "",
        ["LABELER_URL"] = "",
    };

    public static AtSyncParameters Add(IDistributedApplicationBuilder builder) => new()
    {
        MySqlRootPassword = builder.AddParameter("mysql-root-password", secret: true)
            .WithDescription("Password of MySQL's root account (administration only; the services never use it)."),
        MySqlPassword = builder.AddParameter("mysql-password", secret: true)
            .WithDescription("Password of the `atsync` MySQL account that phpBB and both services use."),
        ForumPdsAccessToken = builder.AddParameter("forum-pds-access-token", secret: true)
            .WithDescription("Access token for writes to the forum's own PDS."),
        TokenEncryptionKeys = builder.AddParameter("token-encryption-keys", secret: true)
            .WithDescription("JSON map key version → base64 of 32 bytes, e.g. `{\"v1\":\"…\"}` (`openssl rand -base64 32`)."),
        PhpbbAdminPassword = builder.AddParameter("phpbb-admin-password", secret: true)
            .WithDescription("Password of the phpBB administrator created by the unattended install."),
        PhpbbAdminEmail = WithDefault(builder, "phpbb-admin-email", DefaultAdminEmail)
            .WithDescription("E-mail address of the phpBB administrator and the board contact."),
        ForumDid = builder.AddParameter("forum-did")
            .WithDescription("The forum's own DID (`did:plc:…` or `did:web:…`)."),
        ForumPdsUrl = builder.AddParameter("forum-pds-url")
            .WithDescription("URL of the forum's PDS (http or https)."),
        TokenEncryptionKeyVersion = WithDefault(builder, "token-encryption-key-version", DefaultKeyVersion)
            .WithDescription("Key version new token writes use; must be a key of token-encryption-keys."),
        RelayUrl = WithDefault(builder, "relay-url", DefaultRelayUrl)
            .WithDescription("Relay firehose (ws/wss)."),
        LabelerDid = WithDefault(builder, "labeler-did", "")
            .WithDescription("DID whose labels are applied; empty means the forum's DID."),
        LabelerUrl = WithDefault(builder, "labeler-url", "")
            .WithDescription("The labeler's service URL; empty means the forum's PDS URL."),
        LogLevel = WithDefault(builder, "log-level", DefaultLogLevel)
            .WithDescription("Default minimum log level of both services (Trace … Critical, None)."),
    };

    /// <summary>A plain parameter read from <c>Parameters:&lt;name&gt;</c>, with a default when it is not configured.</summary>
    /// <remarks><c>AddParameter(name, value)</c> would ignore configuration altogether; this one lets it override.</remarks>
    private static IResourceBuilder<ParameterResource> WithDefault(IDistributedApplicationBuilder builder, string name, string defaultValue) =>
        builder.AddParameter(name, () => builder.Configuration[$"Parameters:{name}"] ?? defaultValue);
}
