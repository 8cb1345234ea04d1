using System.Security.Cryptography;
using AtSync.Core.Settings;

namespace AtSync.Tests.Infrastructure;

/// <summary>A complete, valid set of AtSync settings for a service under test; tests change or remove single entries.</summary>
public static class ServiceSettings
{
    public const string ForumDid = "did:plc:forumtestforumtestforum1";
    public const string ForumAppPassword = "forum-app-password-SECRET-7f3a";

    public static string NewTokenKeysJson(string version = "v1") =>
        $"{{\"{version}\":\"{Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))}\"}}";

    public static Dictionary<string, string?> For(TestDatabase database, string tokenKeysJson) => new()
    {
        [SettingNames.ConnectionString] = database.ConnectionString,
        [SettingNames.TablePrefix] = database.Prefix,
        [SettingNames.ForumDid] = ForumDid,
        [SettingNames.ForumPdsUrl] = "http://127.0.0.1:9",
        [SettingNames.ForumAppPassword] = ForumAppPassword,
        [SettingNames.TokenEncryptionKeys] = tokenKeysJson,
        [SettingNames.TokenEncryptionKeyVersion] = "v1",
        [SettingNames.RelayUrl] = "ws://127.0.0.1:9/xrpc/com.atproto.sync.subscribeRepos",
        [SettingNames.LabelerUrl] = "ws://127.0.0.1:9",
        [SettingNames.PlcDirectoryUrl] = "http://127.0.0.1:9",
        // The loopback peers (PLC directory, did:web hosts) are allowed by name; any other loopback host is refused.
        [SettingNames.IdentityAllowedHosts] = "127.0.0.1",
        // Signing keys come from loopback peers on a loaded machine: wait for them instead of parking their authors
        // (the isolation tests set the production deadline themselves).
        ["Firehose__KeyDeadline"] = "00:00:10",
        // The suite's streams come from test DIDs that are not linked: without this their posts would wait in phpBB's
        // moderation queue (the default); the posting-policy tests set it themselves.
        ["NETWORK_MODERATION"] = "none",
        [SettingNames.LogLevel] = "Information",
    };
}
