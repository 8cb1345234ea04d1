using AtSync.AtProto.OAuth;
using AtSync.Core.Settings;
using AtSync.Core.Tokens;
using AtSync.Tests.Infrastructure;
using AtSync.Tests.OAuth;
using Microsoft.Playwright;
using MySqlConnector;

namespace AtSync.Tests.Linking;

/// <summary>
/// The linking service as a real process over a fresh MariaDB database (phpBB's tables with sessions and config),
/// the loopback AT network (authorization server, PDS, PLC, handle resolver) and headless Debian Chromium driven by
/// Playwright (never Playwright's own browser download).
/// </summary>
public sealed class LinkingHarness : IAsyncDisposable
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private int _nextUserId = 500;

    private LinkingHarness(TestDatabase database, LoopbackAtNetwork network, ServiceProcess service, string keysJson, IPlaywright playwright, IBrowser browser,
        string clientKey)
    {
        ClientKey = clientKey;
        Database = database;
        Network = network;
        Service = service;
        KeysJson = keysJson;
        Playwright = playwright;
        Browser = browser;
        Cipher = TokenCipher.FromOptions(new TokenEncryptionOptions { Keys = keysJson, CurrentVersion = "v1" });
    }

    public TestDatabase Database { get; }
    public LoopbackAtNetwork Network { get; }
    public ServiceProcess Service { get; }
    public string KeysJson { get; }

    /// <summary>The service's OAUTH_CLIENT_KEY (a QueueWorker refreshing its users' sessions needs the same).</summary>
    public string ClientKey { get; }
    public TokenCipher Cipher { get; }
    public IPlaywright Playwright { get; }
    public IBrowser Browser { get; }
    public Uri PublicUrl => new(Service.BaseAddress, "/atproto/");
    public Uri LinkUrl => new(PublicUrl, "link");

    public static async Task<LinkingHarness> StartAsync()
    {
        var server = await MariaDbServer.SharedAsync();
        var database = await server.CreateDatabaseAsync();
        await PhpbbSessionTables.CreateAsync(database);
        var network = await LoopbackAtNetwork.StartAsync();
        var keys = ServiceSettings.NewTokenKeysJson();
        using var clientKey = DpopKey.Generate();
        var port = ServiceProcess.FreeLoopbackPort();
        var service = ServiceProcess.Start("AtSync.Linking", new Dictionary<string, string?>
        {
            [SettingNames.ConnectionString] = database.ConnectionString,
            [SettingNames.TablePrefix] = database.Prefix,
            [SettingNames.TokenEncryptionKeys] = keys,
            [SettingNames.TokenEncryptionKeyVersion] = "v1",
            [SettingNames.PlcDirectoryUrl] = network.Plc.BaseUri.ToString(),
            [SettingNames.IdentityAllowedHosts] = "127.0.0.1,localhost",
            ["LINKING_PUBLIC_URL"] = $"http://127.0.0.1:{port}/atproto/",
            ["OAUTH_CLIENT_KEY"] = clientKey.ExportPrivateKey(),
            ["HANDLE_RESOLVER_URL"] = network.PdsUri.ToString(),
            ["OAUTH_ALLOW_LOOPBACK_HTTP"] = "true",
            [SettingNames.LogLevel] = "Debug",
        }, port);
        await service.WaitForHealthyAsync(TimeSpan.FromSeconds(60));
        var playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
        return new LinkingHarness(database, network, service, keys, playwright, browser, clientKey.ExportPrivateKey());
    }

    /// <summary>A new phpBB member signed in (a row in phpbb_sessions) and a browser page carrying their phpBB cookies.</summary>
    public async Task<(long UserId, IPage Page)> SignedInMemberAsync()
    {
        var userId = Interlocked.Increment(ref _nextUserId);
        var sid = await PhpbbSessionTables.SignInAsync(Database, userId);
        return (userId, await PageWithCookiesAsync(sid, userId));
    }

    public async Task<IPage> PageWithCookiesAsync(string? sid, long userId)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { UserAgent = PhpbbSessionTables.UserAgent });
        if (sid is not null)
        {
            await context.AddCookiesAsync(
            [
                new Cookie { Name = PhpbbSessionTables.CookieName + "_sid", Value = sid, Domain = "127.0.0.1", Path = "/" },
                new Cookie { Name = PhpbbSessionTables.CookieName + "_u", Value = userId.ToString(System.Globalization.CultureInfo.InvariantCulture), Domain = "127.0.0.1", Path = "/" },
            ]);
        }
        return await context.NewPageAsync();
    }

    /// <summary>Opens the link page, enters the handle, continues to the authorization server's consent page and approves.</summary>
    public async Task<int> LinkThroughBrowserAsync(IPage page, string handle)
    {
        await page.GotoAsync(LinkUrl.ToString());
        await page.GetByLabel("Your handle or DID").FillAsync(handle);
        await page.GetByRole(AriaRole.Button, new() { Name = "Continue to sign in" }).ClickAsync();
        await page.WaitForURLAsync(Network.Auth.Issuer + "/oauth/authorize**");
        // The status of the page the browser lands on after the callback (a 303 to the link page, or an error page).
        var landed = page.WaitForResponseAsync(r => r.Request.IsNavigationRequest && r.Url.StartsWith(PublicUrl.ToString(), StringComparison.Ordinal)
            && r.Status is < 300 or >= 400);
        await page.GetByRole(AriaRole.Button, new() { Name = "Approve" }).ClickAsync();
        var response = await landed;
        await page.WaitForLoadStateAsync(LoadState.Load);
        return response.Status;
    }

    public sealed record UserRow(string Did, string Handle, string Kind, string? Access, string? Refresh, string? DpopKey, string? Issuer,
        string? TokenEndpoint, string? Scope, long? ExpiresAt, string PdsUrl);

    public async Task<UserRow?> UserRowAsync(long userId)
    {
        await using var connection = await Database.OpenAsync();
        await using var command = new MySqlCommand($"""
            SELECT did, handle, session_kind, access_token, refresh_token, dpop_key, auth_issuer, token_endpoint, token_scope, token_expires_at, pds_url
            FROM {Database.Tables.Users} WHERE user_id = {userId}
            """, connection);
        await using var reader = await command.ExecuteReaderAsync();
        if (!await reader.ReadAsync()) return null;
        string? S(int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
        return new UserRow(reader.GetString(0), reader.GetString(1), reader.GetString(2), S(3), S(4), S(5), S(6), S(7), S(8),
            reader.IsDBNull(9) ? null : reader.GetInt64(9), reader.GetString(10));
    }

    public Task<long> CountAsync(string table) => Database.ScalarAsync<long>($"SELECT COUNT(*) FROM {table}");

    public async ValueTask DisposeAsync()
    {
        await Browser.DisposeAsync();
        Playwright.Dispose();
        await Service.DisposeAsync();
        await Network.DisposeAsync();
        Cipher.Dispose();
        await Database.DisposeAsync();
    }
}
