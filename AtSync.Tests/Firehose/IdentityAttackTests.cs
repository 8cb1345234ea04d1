using System.Net;
using Microsoft.AspNetCore.Http;
using AtSync.Core.Forum;
using AtSync.Core.Settings;
using AtSync.Firehose;
using AtSync.Testing;
using AtSync.Testing.Synthetic;
using AtSync.Tests.AtProto;
using AtSync.Tests.Infrastructure;

namespace AtSync.Tests.Firehose;

/// <summary>
/// The Firehose as a process against real MariaDB, attacked through identities: did:web hosts and handles that point at
/// loopback (by name, by a DNS answer, by a redirect) are never asked, and a handle is shown (phpBB username) only when
/// it resolves back to the DID, by DNS TXT or HTTPS well-known; <c>#identity</c> re-checks and renames.
/// </summary>
public sealed class IdentityAttackTests
{
    private static readonly string BoardUri = $"at://{ServiceSettings.ForumDid}/net.vza.forum.board/3kboardgeneral";
    private static readonly StrongRef Board = new(BoardUri, "bafyreib2rxk3rybk3aobmv5cjuql3bm2twh4jo5uxgf5vadynilrvz6qcy");
    private static readonly DateTimeOffset T0 = new(2026, 7, 4, 15, 0, 0, TimeSpan.Zero);

    private static string Plc(string name) => "did:plc:" + name + new string(name[^1], 24 - name.Length);

    private static readonly string Alice = Plc("alice"), Bob = Plc("bob"), Carol = Plc("carol"), Erin = Plc("erin"),
        Mallory = Plc("mallory"), Rita = Plc("rita");

    [Fact]
    public async Task Loopback_identities_are_never_fetched_and_only_handles_resolving_back_are_shown()
    {
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync();
        await FirehoseHarness.PrepareForumAsync(database, BoardUri);
        var t = database.Tables;
        using var frames = ForumFrameFactory.Create();
        await using var plc = await LoopbackPlc.StartAsync(frames.SigningKey.PublicKey);
        await using var dns = await LoopbackDns.StartAsync();
        // The server no identity fetch may reach, however it is pointed at.
        await using var trap = await LoopbackHttpServer.StartAsync();
        // Handles' /.well-known/atproto-did, by Host (IDENTITY_PLAIN_HTTP_PORT points every handle here).
        await using var wellKnown = await LoopbackHttpServer.StartAsync();
        var served = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
        {
            ["alice.test"] = Alice,
            ["bob.test"] = Carol, // Bob claims a handle that belongs to someone else.
            ["alice2.test"] = Alice,
        };
        wellKnown.Handler = async (context, request) =>
        {
            var host = context.Request.Host.Host;
            if (host == "redirect.test")
            {
                context.Response.StatusCode = 302;
                context.Response.Headers.Location = $"http://localhost:{trap.BaseUri.Port}/.well-known/atproto-did";
            }
            else if (request.Path == "/.well-known/atproto-did" && served.TryGetValue(host, out var did))
            {
                context.Response.ContentType = "text/plain";
                await context.Response.WriteAsync(did + "\n");
            }
            else
            {
                context.Response.StatusCode = 404;
            }
        };
        // A did:web host (allowed by name) whose document answer is a redirect to loopback.
        await using var redirector = await LoopbackHttpServer.StartAsync();
        redirector.Handler = (context, _) =>
        {
            context.Response.StatusCode = 302;
            context.Response.Headers.Location = $"http://localhost:{trap.BaseUri.Port}/.well-known/did.json";
            return Task.CompletedTask;
        };
        foreach (var name in new[] { "alice.test", "bob.test", "alice2.test", "redirect.test", "evil.test", "sneaky.test", "localhost" })
        {
            dns.Addresses[name] = [IPAddress.Loopback];
        }
        dns.Txt["_atproto.carol.test"] = [$"did={Carol}"];
        dns.Txt["_atproto.erin.test"] = [$"did={Alice}"];
        plc.Handles[Alice] = "alice.test";       // HTTPS well-known names Alice: shown
        plc.Handles[Bob] = "bob.test";           // HTTPS well-known names Carol: not shown
        plc.Handles[Carol] = "carol.test";       // DNS TXT names Carol: shown
        plc.Handles[Erin] = "erin.test";         // DNS TXT names Alice: not shown
        plc.Handles[Mallory] = "evil.test";      // resolves to loopback, not allowed: never asked
        plc.Handles[Rita] = "redirect.test";     // its well-known redirects to loopback: not followed

        var localhostWeb = $"did:web:localhost%3A{trap.BaseUri.Port}";
        var sneakyWeb = $"did:web:sneaky.test%3A{trap.BaseUri.Port}";
        var redirectWeb = $"did:web:127.0.0.1%3A{redirector.BaseUri.Port}";
        await using var relay = await LoopbackRelay.StartAsync(FirehoseStreams.SubscribeReposPath);
        var topic = frames.Post(1, Alice, "3ktopic00001", new ForumPostRecord("x", "2026-07-04T14:59:00.000Z", Board, "Names", null, null, null), T0);
        var root = new StrongRef(topic.Uri, topic.RecordCid!);
        ForumPostRecord Reply(string text) => new(text, "2026-07-04T15:00:30.000Z", Board, null, root, root, null);
        string[] repliers = [Bob, Carol, Erin, Mallory, Rita, localhostWeb, sneakyWeb, redirectWeb, Alice];
        relay.Publish([(1, topic.Frame), .. repliers.Select((did, i) =>
            ((long)i + 2, frames.Post(i + 2, did, ForumFrameFactory.Rkey(i + 2), Reply($"reply {i}"), T0.AddMinutes(i + 1)).Frame))]);
        var lastSeq = repliers.Length + 1L;

        var settings = ServiceSettings.For(database, ServiceSettings.NewTokenKeysJson());
        settings[SettingNames.ConnectionString] = new MySqlConnector.MySqlConnectionStringBuilder(database.ConnectionString) { AllowUserVariables = false }.ConnectionString;
        settings[SettingNames.RelayUrl] = relay.Url.ToString();
        settings[SettingNames.PlcDirectoryUrl] = plc.BaseUri.ToString();
        settings[SettingNames.IdentityAllowedHosts] = "127.0.0.1, alice.test, bob.test, alice2.test, carol.test, erin.test, redirect.test";
        settings[SettingNames.IdentityDnsServer] = dns.Setting;
        settings[SettingNames.IdentityPlainHttpPort] = wellKnown.BaseUri.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Firehose__LabelsEnabled"] = "false";
        // Signing keys come from loopback peers: wait for them rather than park authors on a loaded machine.
        settings["Firehose__KeyDeadline"] = "00:00:10";
        await using var service = ServiceProcess.Start("AtSync.Firehose", settings);
        await WaitForCursorAsync(database, service, lastSeq);

        var users = await UsersAsync(database);
        Assert.Equal("alice.test", users[Alice].Username);
        Assert.Equal("alice.test", users[Alice].Handle);
        Assert.Equal("carol.test", users[Carol].Username);
        Assert.Equal("carol.test", users[Carol].Handle);
        foreach (var did in new[] { Bob, Erin, Mallory, Rita })
        {
            Assert.Equal(did.Replace(':', '-'), users[did].Username);
            Assert.Equal("", users[did].Handle);
        }
        // No claimed-but-unverified handle appears anywhere a reader sees names.
        foreach (var claimed in new[] { "bob.test", "erin.test", "evil.test", "redirect.test" })
        {
            Assert.Equal(0L, await database.ScalarAsync<long>($"SELECT COUNT(*) FROM {t.PhpbbUsers} WHERE username_clean LIKE '{claimed}%'"));
        }
        // The did:web authors pointing at loopback are unverifiable: their posts are skipped, the stream moved on.
        Assert.Equal(7L, await database.ScalarAsync<long>($"SELECT COUNT(*) FROM {t.PhpbbPosts}"));
        Assert.False(users.ContainsKey(localhostWeb) || users.ContainsKey(sneakyWeb) || users.ContainsKey(redirectWeb));
        Assert.Contains(redirector.Requests, r => r.Path == "/.well-known/did.json");
        Assert.Contains(wellKnown.Requests, r => r.Header("Host")!.StartsWith("redirect.test", StringComparison.Ordinal));
        Assert.Contains(dns.Questions, q => q == "sneaky.test A");
        Assert.DoesNotContain(wellKnown.Requests, r => r.Header("Host")!.StartsWith("evil.test", StringComparison.Ordinal));

        // #identity: Alice moves to alice2.test (resolves back: renamed, and so are the names phpBB keeps beside her id);
        // Carol's DNS record now names Erin (no longer hers: named from her DID again).
        plc.Handles[Alice] = "alice2.test";
        dns.Txt["_atproto.carol.test"] = [$"did={Erin}"];
        relay.Publish([
            (lastSeq + 1, ForumFrameFactory.Identity(lastSeq + 1, Alice, "alice2.test", T0.AddHours(1))),
            (lastSeq + 2, ForumFrameFactory.Identity(lastSeq + 2, Carol, "carol.test", T0.AddHours(1))),
        ]);
        await WaitForCursorAsync(database, service, lastSeq + 2);
        users = await UsersAsync(database);
        Assert.Equal("alice2.test", users[Alice].Username);
        Assert.Equal("alice2.test", users[Alice].Handle);
        Assert.Equal(Carol.Replace(':', '-'), users[Carol].Username);
        Assert.Equal("", users[Carol].Handle);
        Assert.Equal("alice2.test", await database.ScalarAsync<string>($"SELECT topic_first_poster_name FROM {t.PhpbbTopics}"));
        Assert.Equal("alice2.test", await database.ScalarAsync<string>($"SELECT topic_last_poster_name FROM {t.PhpbbTopics}"));
        Assert.Equal("alice2.test", await database.ScalarAsync<string>($"SELECT forum_last_poster_name FROM {t.PhpbbForums}"));

        // The trap saw nothing, by any route: did:web localhost, did:web by a DNS name answering loopback, redirects.
        Assert.Empty(trap.Requests);
        Assert.DoesNotContain(wellKnown.Requests, r => r.Header("Host")!.StartsWith("evil.test", StringComparison.Ordinal));
        Assert.DoesNotContain("Unhandled", service.Output, StringComparison.Ordinal);
    }

    private static async Task<Dictionary<string, (string Username, string Handle)>> UsersAsync(TestDatabase database)
    {
        await using var connection = await database.OpenAsync();
        await using var command = new MySqlConnector.MySqlCommand(
            $"SELECT au.did, u.username, au.handle FROM {database.Tables.Users} au JOIN {database.Tables.PhpbbUsers} u ON u.user_id = au.user_id", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var users = new Dictionary<string, (string, string)>(StringComparer.Ordinal);
        while (await reader.ReadAsync()) users[reader.GetString(0)] = (reader.GetString(1), reader.GetString(2));
        return users;
    }

    private static async Task WaitForCursorAsync(TestDatabase database, ServiceProcess service, long seq)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            await using (var connection = await database.OpenAsync())
            {
                await using var command = new MySqlConnector.MySqlCommand($"SELECT cursor_value FROM {database.Tables.Cursors} WHERE service = 'firehose'", connection);
                if (await command.ExecuteScalarAsync() is { } value and not DBNull && Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture) >= seq) return;
            }
            if (service.HasExited) throw new InvalidOperationException($"the service exited with {service.ExitCode}:\n{service.Output}");
            await Task.Delay(100);
        }
        throw new TimeoutException($"cursor did not reach {seq}:\n{service.Output}");
    }
}
