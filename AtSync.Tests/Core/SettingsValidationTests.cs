using AtSync.Core.Settings;
using AtSync.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.DependencyInjection;
using AtSync.Core.Storage;

namespace AtSync.Tests.Core;

/// <summary>
/// Every setting of docs/design.md, missing or malformed, stops the host before it starts with exit code 2 and one line that
/// names the setting and does not repeat the value. (Process-level versions of these live in ServiceStartupTests.)
/// </summary>
public sealed class SettingsValidationTests
{
    private const string ValidConnectionString = "Server=127.0.0.1;Port=9;User ID=u;Password=pw-SECRET-1;Database=phpbb";

    private static Dictionary<string, string?> ValidSettings() => new()
    {
        [SettingNames.ConnectionString] = ValidConnectionString,
        [SettingNames.ForumDid] = ServiceSettings.ForumDid,
        [SettingNames.ForumPdsUrl] = "https://pds.example.com",
        [SettingNames.ForumAppPassword] = ServiceSettings.ForumAppPassword,
        [SettingNames.TokenEncryptionKeys] = ServiceSettings.NewTokenKeysJson(),
        [SettingNames.TokenEncryptionKeyVersion] = "v1",
        [SettingNames.RelayUrl] = "wss://relay.example.com/xrpc/com.atproto.sync.subscribeRepos",
    };

    private static async Task<(int ExitCode, string Error)> StartAsync(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { ApplicationName = "AtSync.Test" });
        builder.Configuration.AddInMemoryCollection(settings.Select(kv => new KeyValuePair<string, string?>(kv.Key.Replace("__", ":"), kv.Value)));
        builder.AddLogLevelSetting();
        builder.AddDatabaseSettings();
        builder.AddForumSettings();
        builder.AddForumAccountSettings();
        builder.AddTokenEncryptionSettings();
        builder.AddNetworkSettings();
        builder.AddIdentitySettings();
        using var host = builder.Build();
        var error = new StringWriter();
        // A valid configuration would run the (empty) host: stop it at once.
        host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStarted.Register(() =>
            host.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication());
        var exitCode = await host.RunServiceAsync(error);
        return (exitCode, error.ToString());
    }

    [Fact]
    public async Task Valid_settings_start()
    {
        var (exitCode, error) = await StartAsync(ValidSettings());
        Assert.Equal(0, exitCode);
        Assert.Equal("", error);
    }

    public static TheoryData<string, string?, string> InvalidSettings => new()
    {
        { SettingNames.ConnectionString, null, "ConnectionStrings__phpbb is missing" },
        { SettingNames.ConnectionString, "Password=pw-SECRET-2;Database=phpbb", "ConnectionStrings__phpbb names no Server" },
        { SettingNames.ConnectionString, "Server=db;Password=pw-SECRET-3;Flavour=strawberry", "ConnectionStrings__phpbb is not a valid MySQL connection string" },
        { SettingNames.ForumDid, null, "FORUM_DID is missing" },
        { SettingNames.ForumDid, "plc:abcdefSECRETISH", "FORUM_DID is not a DID" },
        { SettingNames.ForumDid, "did:PLC:abcdef", "FORUM_DID is not a DID" },
        { SettingNames.ForumPdsUrl, "ftp://pds.example.com", "FORUM_PDS_URL is not an absolute http or https URL" },
        { SettingNames.ForumPdsUrl, "pds.example.com", "FORUM_PDS_URL is not an absolute http or https URL" },
        { SettingNames.ForumAppPassword, "", "FORUM_APP_PASSWORD is missing" },
        { SettingNames.TokenEncryptionKeys, null, "TOKEN_ENCRYPTION_KEYS is missing" },
        { SettingNames.TokenEncryptionKeys, "v1=SECRETKEYMATERIAL", "TOKEN_ENCRYPTION_KEYS is not JSON" },
        { SettingNames.TokenEncryptionKeys, "[\"SECRETKEYMATERIAL\"]", "TOKEN_ENCRYPTION_KEYS is not a JSON object" },
        { SettingNames.TokenEncryptionKeys, "{\"v1\":\"U0VDUkVUS0VZTUFURVJJQUw=\"}", "TOKEN_ENCRYPTION_KEYS key 'v1' is not base64 of 32 bytes" },
        { SettingNames.TokenEncryptionKeys, "{\"v1\":\"###SECRETKEYMATERIAL###\"}", "TOKEN_ENCRYPTION_KEYS key 'v1' is not base64 of 32 bytes" },
        { SettingNames.TokenEncryptionKeys, "{}", "TOKEN_ENCRYPTION_KEYS holds no keys" },
        { SettingNames.TokenEncryptionKeyVersion, "v9", "TOKEN_ENCRYPTION_KEY_VERSION names a version that TOKEN_ENCRYPTION_KEYS does not hold" },
        { SettingNames.RelayUrl, "https://relay.example.com", "RELAY_URL is not an absolute ws or wss URL" },
        { SettingNames.LabelerDid, "labeler", "LABELER_DID is not a DID" },
        { SettingNames.LabelerUrl, "mailto:labels@example.com", "LABELER_URL is not an absolute http, https, ws or wss URL" },
        { SettingNames.PlcDirectoryUrl, "plc.directory", "PLC_DIRECTORY_URL is not an absolute http or https URL" },
        { SettingNames.LogLevel, "Loud", "LOG_LEVEL is not a log level" },
        { SettingNames.IdentityAllowedHosts, "127.0.0.1, http://SECRET.example/", "IDENTITY_ALLOWED_HOSTS must list host names or IP addresses" },
        { SettingNames.IdentityDnsServer, "dns.SECRET.example", "IDENTITY_DNS_SERVER is not an IP address or address:port" },
        { SettingNames.IdentityDnsServer, "127.0.0.1:0", "IDENTITY_DNS_SERVER is not an IP address or address:port" },
        { SettingNames.IdentityPlainHttpPort, "70000", "IDENTITY_PLAIN_HTTP_PORT is not a port number" },
        { SettingNames.TablePrefix, "phpbb; DROP TABLE x", "PHPBB_TABLE_PREFIX must be letters, digits and underscores" },
    };

    [Theory]
    [MemberData(nameof(InvalidSettings))]
    public async Task An_invalid_setting_stops_the_service_with_one_line_naming_it(string setting, string? value, string expected)
    {
        var settings = ValidSettings();
        settings[setting] = value;

        var (exitCode, error) = await StartAsync(settings);

        Assert.Equal(ServiceRunner.InvalidSettingsExitCode, exitCode);
        var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var line = Assert.Single(lines);
        Assert.StartsWith("AtSync.Test cannot start: ", line);
        Assert.Contains(expected, line);
        if (!string.IsNullOrEmpty(value))
        {
            Assert.DoesNotContain(value, line);
        }
        Assert.DoesNotContain("SECRET", line);
        Assert.DoesNotContain("   at ", line);
    }

    [Fact]
    public async Task Several_invalid_settings_are_named_together_on_one_line()
    {
        var settings = ValidSettings();
        settings[SettingNames.ForumDid] = null;
        settings[SettingNames.RelayUrl] = "http://x";

        var (exitCode, error) = await StartAsync(settings);

        Assert.Equal(2, exitCode);
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("FORUM_DID is missing", line);
        Assert.Contains("RELAY_URL is not an absolute ws or wss URL", line);
    }

    [Fact]
    public void Labeler_settings_default_to_the_forums()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(ValidSettings());
        builder.AddForumSettings();
        builder.AddNetworkSettings();
        using var host = builder.Build();

        var network = host.Services.GetRequiredService<IOptions<NetworkOptions>>().Value;

        Assert.Equal(ServiceSettings.ForumDid, network.LabelerDid);
        Assert.Equal("https://pds.example.com", network.LabelerUrl);
        Assert.Equal("wss://relay.example.com/xrpc/com.atproto.sync.subscribeRepos", network.RelayUrl);
    }

    [Fact]
    public void Options_ToString_never_shows_secrets()
    {
        var forum = new ForumAccountOptions { Handle = "forum.example.com", AppPassword = "app-SECRET" };
        var keys = new TokenEncryptionOptions { Keys = "{\"v1\":\"SECRET\"}", CurrentVersion = "v1" };
        var database = new DatabaseOptions { ConnectionString = "Password=SECRET", TablePrefix = "phpbb_" };
        Assert.DoesNotContain("SECRET", forum.ToString());
        Assert.DoesNotContain("SECRET", keys.ToString());
        Assert.DoesNotContain("SECRET", database.ToString());
    }

    [Fact]
    public void Token_keys_parse_to_32_byte_keys_by_version()
    {
        var key1 = Convert.ToBase64String(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray());
        var key2 = Convert.ToBase64String(Enumerable.Range(100, 32).Select(i => (byte)i).ToArray());

        Assert.True(TokenKeysFormat.TryParse($"{{\"v1\":\"{key1}\",\"v2\":\"{key2}\"}}", out var keys, out var reason));

        Assert.Null(reason);
        Assert.Equal(2, keys.Count);
        Assert.Equal(31, keys["v1"][31]);
        Assert.Equal(100, keys["v2"][0]);
    }

    [Fact]
    public async Task Table_prefix_reaches_the_table_names()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection([new("ConnectionStrings:phpbb", ValidConnectionString), new(SettingNames.TablePrefix, "board7_")]);
        builder.AddAtSyncDatabase();
        using var host = builder.Build();

        var tables = host.Services.GetRequiredService<AtSyncTables>();

        Assert.Equal("board7_atproto_queue", tables.Queue);
        Assert.Equal("board7_posts", tables.PhpbbPosts);
        await Task.CompletedTask;
    }
}
