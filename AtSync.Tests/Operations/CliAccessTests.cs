using AtSync.Tests.Infrastructure;
using AtSync.Tests.QueueWorker;
using ExitCodes = AtSync.Tests.Operations.CliCommandTests.ExitCodes;

namespace AtSync.Tests.Operations;

/// <summary>
/// <c>atsync access list|allow|ban|clear</c> as a process on a real MariaDB database: the rows the Firehose's posting
/// policy reads (<c>atproto_did_access</c>), text and JSON output, and exit codes for bad input. The Firehose
/// refusing a DID banned this way is shown by <c>HostileIngestProcessTests</c>.
/// </summary>
public sealed class CliAccessTests
{
    private const string Spammer = "did:plc:spammerspammerspammerspa";
    private const string Friend = "did:web:friend.example.com";

    [Fact]
    public async Task Access_allow_ban_list_and_clear_write_the_did_list_and_bad_input_exits_2_without_a_row()
    {
        await using var h = await QueueHarness.CreateAsync();
        var settings = ServiceSettings.For(h.Database, h.KeysJson);
        var t = h.Tables;
        var before = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

        var ban = await CliProcess.RunAsync(settings, "access", "ban", Spammer, "--reason", "link spam");
        Assert.True(ban.ExitCode == ExitCodes.Ok, ban.ToString());
        Assert.Equal($"banned {Spammer} (link spam)\n", ban.Stdout);
        var allow = await CliProcess.RunAsync(settings, "access", "allow", Friend, "--json");
        Assert.True(allow.ExitCode == ExitCodes.Ok, allow.ToString());
        Assert.Equal("allow", allow.Json.GetProperty("access").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, allow.Json.GetProperty("previous").ValueKind);

        Assert.Equal("ban", await h.ScalarAsync<string>($"SELECT access FROM {t.DidAccess} WHERE did = '{Spammer}'"));
        Assert.Equal("link spam", await h.ScalarAsync<string>($"SELECT reason FROM {t.DidAccess} WHERE did = '{Spammer}'"));
        Assert.InRange(await h.ScalarAsync<long>($"SELECT created_at FROM {t.DidAccess} WHERE did = '{Spammer}'"), before, before + 60);
        Assert.Equal("allow", await h.ScalarAsync<string>($"SELECT access FROM {t.DidAccess} WHERE did = '{Friend}'"));

        var list = await CliProcess.RunAsync(settings, "access", "list", "--json");
        Assert.True(list.ExitCode == ExitCodes.Ok, list.ToString());
        var rows = list.Json.EnumerateArray().ToDictionary(r => r.GetProperty("did").GetString()!, r => (r.GetProperty("access").GetString(), r.GetProperty("reason").GetString()));
        Assert.Equal(new Dictionary<string, (string?, string?)> { [Spammer] = ("ban", "link spam"), [Friend] = ("allow", "") }, rows);
        var text = await CliProcess.RunAsync(settings, "access", "list");
        Assert.Contains("link spam", text.Stdout, StringComparison.Ordinal);
        Assert.Contains("1 allowed, 1 banned", text.Stdout, StringComparison.Ordinal);

        // A second decision replaces the first (one row per DID) and says what it was.
        var rebanned = await CliProcess.RunAsync(settings, "access", "ban", Friend, "--reason", "account taken over");
        Assert.True(rebanned.ExitCode == ExitCodes.Ok, rebanned.ToString());
        Assert.Equal($"banned {Friend} (account taken over); was allow\n", rebanned.Stdout);
        Assert.Equal(1L, await h.ScalarAsync<long>($"SELECT COUNT(*) FROM {t.DidAccess} WHERE did = '{Friend}'"));
        Assert.Equal("ban", await h.ScalarAsync<string>($"SELECT access FROM {t.DidAccess} WHERE did = '{Friend}'"));

        var cleared = await CliProcess.RunAsync(settings, "access", "clear", Spammer);
        Assert.True(cleared.ExitCode == ExitCodes.Ok, cleared.ToString());
        Assert.Equal(0L, await h.ScalarAsync<long>($"SELECT COUNT(*) FROM {t.DidAccess} WHERE did = '{Spammer}'"));
        var again = await CliProcess.RunAsync(settings, "access", "clear", Spammer);
        Assert.Equal(ExitCodes.Failed, again.ExitCode);
        Assert.Equal("atsync: that DID is neither allowed nor banned\n", again.Stderr);

        // Bad input: one line, exit 2, nothing written.
        foreach (var args in new string[][]
                 {
                     ["access", "ban", "not-a-did"],
                     ["access", "allow", "did:plc:x y"],
                     ["access", "ban", "did:plc:someoneelsesomeoneelseso", "--reason", new string('r', 256)],
                     ["access", "ban", "did:plc:someoneelsesomeoneelseso", "--reason", "line\nbreak"],
                     ["access", "clear", "alice.example.com"],
                 })
        {
            var bad = await CliProcess.RunAsync(settings, args);
            Assert.True(bad.ExitCode == ExitCodes.Usage, bad.ToString());
            Assert.Single(bad.Stderr.TrimEnd('\n').Split('\n'));
            Assert.StartsWith("atsync: ", bad.Stderr, StringComparison.Ordinal);
        }
        Assert.Equal(1L, await h.ScalarAsync<long>($"SELECT COUNT(*) FROM {t.DidAccess}"));

        var missing = await CliProcess.RunAsync(settings, "access", "ban");
        Assert.Equal(ExitCodes.Usage, missing.ExitCode);
    }
}
