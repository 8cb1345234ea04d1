namespace AtSync.Core.Settings;

/// <summary>The environment/configuration keys of docs/design.md's configuration section: one home for each name.</summary>
public static class SettingNames
{
    public const string ConnectionStringName = "phpbb";
    public const string ConnectionString = "ConnectionStrings__phpbb";
    public const string ForumDid = "FORUM_DID";
    public const string ForumPdsUrl = "FORUM_PDS_URL";
    public const string ForumHandle = "FORUM_HANDLE";
    public const string ForumAppPassword = "FORUM_APP_PASSWORD";
    public const string TokenEncryptionKeys = "TOKEN_ENCRYPTION_KEYS";
    public const string TokenEncryptionKeyVersion = "TOKEN_ENCRYPTION_KEY_VERSION";
    public const string RelayUrl = "RELAY_URL";
    public const string LabelerDid = "LABELER_DID";
    public const string LabelerUrl = "LABELER_URL";
    public const string LogLevel = "LOG_LEVEL";
    public const string TablePrefix = "PHPBB_TABLE_PREFIX";
    public const string PlcDirectoryUrl = "PLC_DIRECTORY_URL";
    public const string IdentityAllowedHosts = "IDENTITY_ALLOWED_HOSTS";
    public const string IdentityDnsServer = "IDENTITY_DNS_SERVER";
    public const string IdentityPlainHttpPort = "IDENTITY_PLAIN_HTTP_PORT";

    public const string DefaultRelayUrl = "wss://bsky.network/xrpc/com.atproto.sync.subscribeRepos";
    public const string DefaultPlcDirectoryUrl = "https://plc.directory";
    public const string DefaultTablePrefix = "phpbb_";
}
