using Microsoft.Extensions.Configuration;

namespace AtSync.AppHost;

/// <summary>
/// The parameters of the services: one per setting of docs/design.md (the full stack adds its own: FullStack/ForumStack.cs).
/// Values come from configuration (<c>Parameters:&lt;name&gt;</c>: user secrets or environment <c>Parameters__&lt;name&gt;</c>;
/// <see cref="StartupCheck"/> names a missing one before anything starts);
/// in the Docker Compose deployment each becomes a <c>${NAME}</c> variable of the <c>.env</c> file.
/// </summary>
internal sealed class AtSyncParameters
{
    public const string DefaultRelayUrl = "wss://bsky.network/xrpc/com.atproto.sync.subscribeRepos";
    public const string DefaultKeyVersion = "v1";
    public const string DefaultLogLevel = "Information";
    public const string DefaultPlcDirectoryUrl = "https://plc.directory";

    public required IResourceBuilder<ParameterResource> ForumAppPassword { get; init; }
    public required IResourceBuilder<ParameterResource> ForumHandle { get; init; }
    public required IResourceBuilder<ParameterResource> TokenEncryptionKeys { get; init; }
    public required IResourceBuilder<ParameterResource> ForumDid { get; init; }
    public required IResourceBuilder<ParameterResource> ForumPdsUrl { get; init; }
    public required IResourceBuilder<ParameterResource> TokenEncryptionKeyVersion { get; init; }
    public required IResourceBuilder<ParameterResource> RelayUrl { get; init; }
    public required IResourceBuilder<ParameterResource> LabelerDid { get; init; }
    public required IResourceBuilder<ParameterResource> LabelerUrl { get; init; }
    public required IResourceBuilder<ParameterResource> PlcDirectoryUrl { get; init; }
    public required IResourceBuilder<ParameterResource> IdentityAllowedHosts { get; init; }
    public required IResourceBuilder<ParameterResource> LogLevel { get; init; }
    public required IResourceBuilder<ParameterResource> LinkingPublicUrl { get; init; }
    public required IResourceBuilder<ParameterResource> OAuthClientKey { get; init; }

    /// <summary>Defaults the Docker Compose file applies when a plain variable is left empty in <c>.env</c>.</summary>
    public Dictionary<string, string> ComposeDefaults { get; } = new()
    {
        ["TOKEN_ENCRYPTION_KEY_VERSION"] = DefaultKeyVersion,
        // Empty: the forum account signs in with FORUM_DID.
        ["FORUM_HANDLE"] = "",
        ["RELAY_URL"] = DefaultRelayUrl,
        ["LOG_LEVEL"] = DefaultLogLevel,
        // Empty: the services then use the forum's own DID and PDS (docs/design.md).
        ["LABELER_DID"] = "",
        ["LABELER_URL"] = "",
        ["PLC_DIRECTORY_URL"] = DefaultPlcDirectoryUrl,
        // Empty: identity fetches reach public addresses only.
        ["IDENTITY_ALLOWED_HOSTS"] = "",
    };

    public static AtSyncParameters Add(IDistributedApplicationBuilder builder) => new()
    {
        ForumAppPassword = builder.AddParameter("forum-app-password", secret: true)
            .WithDescription("App password of the forum's own account (FORUM_DID) on its PDS; the QueueWorker signs in with it (createSession) and publishes the boards."),
        // Empty: the QueueWorker signs in with the forum's DID (README: The forum account and its boards).
        ForumHandle = WithDefault(builder, "forum-handle", "")
            .WithDescription("Optional: the forum account's handle, to sign in by handle (the session must still be FORUM_DID's); empty signs in with the DID."),
        TokenEncryptionKeys = builder.AddParameter("token-encryption-keys", secret: true)
            .WithDescription("JSON map key version → base64 of 32 bytes, e.g. `{\"v1\":\"…\"}` (`openssl rand -base64 32`)."),
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
        PlcDirectoryUrl = WithDefault(builder, "plc-directory-url", DefaultPlcDirectoryUrl)
            .WithDescription("PLC directory the Firehose resolves `did:plc` documents from (commit signature keys)."),
        IdentityAllowedHosts = WithDefault(builder, "identity-allowed-hosts", "")
            .WithDescription("Hosts identity fetches may reach although not public (e.g. a private PLC mirror); empty: public addresses only."),
        LogLevel = WithDefault(builder, "log-level", DefaultLogLevel)
            .WithDescription("Default minimum log level of the services (Trace … Critical, None)."),
        // Empty under `dotnet run`: the linking service's own loopback http endpoint (AtSyncApplication.LinkingPublicUrl).
        LinkingPublicUrl = WithDefault(builder, "linking-public-url", "")
            .WithDescription("Where members reach the linking service, ending in '/', on phpBB's origin (e.g. https://forum.example.com/atproto/)."),
        OAuthClientKey = WithDefault(builder, "oauth-client-key", "", secret: true)
            .WithDescription("Optional: base64url PKCS#8 P-256 key that makes AtSync a confidential OAuth client (private_key_jwt); empty for a public client."),
    };

    /// <summary>
    /// A plain parameter read from <c>Parameters:&lt;name&gt;</c> (or, as Aspire reads its own parameters, with the dashes
    /// as underscores: environment <c>Parameters__relay_url</c>), with a default when it is not configured.
    /// </summary>
    /// <remarks><c>AddParameter(name, value)</c> would ignore configuration altogether; this one lets it override.</remarks>
    public static IResourceBuilder<ParameterResource> WithDefault(IDistributedApplicationBuilder builder, string name, string defaultValue, bool secret = false) =>
        builder.AddParameter(name, () => Configured(builder.Configuration, $"Parameters:{name}") ?? defaultValue, secret: secret)
            .WithAnnotation(new ParameterDefaultAnnotation());

    /// <summary>Aspire's own lookup of a parameter's key: the exact key, then dashes as underscores (environment variables).</summary>
    public static string? Configured(IConfiguration configuration, string key) =>
        configuration[key] is { Length: > 0 } value ? value : configuration[key.Replace('-', '_')];
}
