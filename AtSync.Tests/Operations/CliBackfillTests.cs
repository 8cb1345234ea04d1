using AtSync.Core.Settings;
using AtSync.Tests.Firehose;
using AtSync.Tests.Firehose.Import;
using AtSync.Tests.Infrastructure;

namespace AtSync.Tests.Operations;

/// <summary>
/// <c>atsync backfill</c> as a process: DIDs, linked users and the relay's listing imported from a loopback PDS into a
/// real MariaDB, with <c>--json</c> results, <c>backfill status</c> and the documented exit codes.
/// </summary>
public sealed class CliBackfillTests
{
    private const string Dave = "did:plc:daveclid7ddddddddddddddd";
    private const string Erin = "did:plc:erincli7eeeeeeeeeeeeeeee";
    private const string Frank = "did:plc:frankcli7fffffffffffffff";

    private static Dictionary<string, string?> Settings(ImportHarness h)
    {
        var settings = ServiceSettings.For(h.Database, ServiceSettings.NewTokenKeysJson());
        settings[SettingNames.PlcDirectoryUrl] = h.Plc.BaseUri.ToString();
        settings["Import__AllowedHosts__0"] = "127.0.0.1";
        return settings;
    }

    [Fact]
    public async Task Backfill_imports_named_linked_and_relay_listed_repositories_once_and_reports_them()
    {
        await using var h = await ImportHarness.StartAsync();
        using var dave = h.Repository(Dave);
        dave.Generate(topics: 10, repliesPerTopic: 4);
        using var erin = h.Repository(Erin);
        erin.Generate(topics: 5, repliesPerTopic: 1);
        using var frank = h.Repository(Frank);
        frank.Generate(topics: 2, repliesPerTopic: 0);
        var settings = Settings(h);
        var t = h.Database.Tables;

        var named = await CliProcess.RunAsync(settings, "backfill", Dave, "--json");
        Assert.True(named.ExitCode == CliCommandTests.ExitCodes.Ok, named.ToString());
        var result = Assert.Single(named.Json.EnumerateArray());
        Assert.Equal(("imported", 50, 50), (result.GetProperty("outcome").GetString(), result.GetProperty("records").GetInt32(), result.GetProperty("created").GetInt32()));
        Assert.Equal(dave.Rev, result.GetProperty("rev").GetString());
        Assert.Equal(50L, await h.Database.ScalarAsync<long>($"SELECT COUNT(*) FROM {t.PhpbbPosts}"));

        // Dave is now a phpBB user linked to his DID (created by the import); --linked imports him again: nothing changes.
        var linked = await CliProcess.RunAsync(settings, "backfill", "--linked");
        Assert.True(linked.ExitCode == CliCommandTests.ExitCodes.Ok, linked.ToString());
        Assert.Contains($"{Dave}: imported at rev {dave.Rev}: 50 forum records, 0 created, 0 updated, 0 deleted, 50 unchanged", linked.Stdout, StringComparison.Ordinal);
        Assert.Contains("1 of 1 repositories imported", linked.Stdout, StringComparison.Ordinal);
        Assert.Equal(50L, await h.Database.ScalarAsync<long>($"SELECT COUNT(*) FROM {t.PhpbbPosts}"));

        // The relay lists all three (in pages); only Erin and Frank add posts.
        h.Pds.ListedCollection[Frank] = "net.vza.forum.post";
        var relay = await CliProcess.RunAsync(settings, "backfill", "--from-relay", h.Pds.BaseUri.ToString(), "--json");
        Assert.True(relay.ExitCode == CliCommandTests.ExitCodes.Ok, relay.ToString());
        var outcomes = relay.Json.EnumerateArray().ToDictionary(r => r.GetProperty("did").GetString()!, r => r.GetProperty("created").GetInt32());
        Assert.Equal(new Dictionary<string, int> { [Dave] = 0, [Erin] = 10, [Frank] = 2 }, outcomes);
        Assert.Contains(h.Pds.Requests, r => r.Contains("listReposByCollection?collection=net.vza.forum.post", StringComparison.Ordinal));
        Assert.Equal(62L, await h.Database.ScalarAsync<long>($"SELECT COUNT(*) FROM {t.PhpbbPosts}"));
        Assert.Equal(3L, await h.Database.ScalarAsync<long>($"SELECT COUNT(*) FROM {t.Repos} WHERE status = 'active'"));

        var status = await CliProcess.RunAsync(settings, "backfill", "status", "--all", "--json");
        Assert.True(status.ExitCode == CliCommandTests.ExitCodes.Ok, status.ToString());
        Assert.Equal(3, status.Json.GetProperty("counts").GetProperty("active").GetInt64());
        Assert.Equal("relay", status.Json.GetProperty("repos").EnumerateArray().Single(r => r.GetProperty("did").GetString() == Frank).GetProperty("requested_by").GetString());
        Assert.Equal("", (await CliProcess.RunAsync(settings, "backfill", "status")).Stderr);
    }

    [Fact]
    public async Task A_refused_repository_exits_1_with_its_reason_shown_by_status_and_bad_arguments_exit_2()
    {
        await using var h = await ImportHarness.StartAsync();
        using var dave = h.Repository(Dave);
        dave.Generate(topics: 3, repliesPerTopic: 1);
        var car = dave.ExportCar();
        h.Pds.Repos[Dave] = () => car[..^50];
        var settings = Settings(h);

        var refused = await CliProcess.RunAsync(settings, "backfill", Dave);
        Assert.Equal(CliCommandTests.ExitCodes.Failed, refused.ExitCode);
        Assert.Contains($"{Dave}: failed (car_", refused.Stdout, StringComparison.Ordinal);
        Assert.Equal(0L, await h.Database.ScalarAsync<long>($"SELECT COUNT(*) FROM {h.Database.Tables.PhpbbPosts}"));
        var status = await CliProcess.RunAsync(settings, "backfill", "status");
        Assert.Equal(CliCommandTests.ExitCodes.Ok, status.ExitCode);
        Assert.Matches($@"{Dave}\s+resync_requested\s+operator\s+0\s+1\s+in \S+\s+import: car_", status.Stdout);

        // Only requested: the Firehose's worker would take it; nothing is fetched here.
        var requests = h.Pds.GetRepoCount;
        var queued = await CliProcess.RunAsync(settings, "backfill", Frank, "--request-only", "--json");
        Assert.Equal(CliCommandTests.ExitCodes.Ok, queued.ExitCode);
        Assert.Equal(requests, h.Pds.GetRepoCount);
        Assert.Equal("resync_requested", await h.Database.ScalarAsync<string>($"SELECT status FROM {h.Database.Tables.Repos} WHERE did = '{Frank}'"));

        Assert.Equal(CliCommandTests.ExitCodes.Usage, (await CliProcess.RunAsync(settings, "backfill")).ExitCode);
        var notDid = await CliProcess.RunAsync(settings, "backfill", "not-a-did");
        Assert.Equal(CliCommandTests.ExitCodes.Usage, notDid.ExitCode);
        Assert.Contains("is not a DID", notDid.Stderr, StringComparison.Ordinal);
        Assert.Equal(CliCommandTests.ExitCodes.Usage, (await CliProcess.RunAsync(settings, "backfill", "--from-relay", "ftp://x")).ExitCode);
    }
}
