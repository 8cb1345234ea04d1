using System.Diagnostics;
using System.Text.RegularExpressions;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace AtSync.Tests.Aspire;

/// <summary>
/// The real AppHost in existing-forum mode under <c>DistributedApplicationTestingBuilder</c> (real DCP, real service
/// processes) against the suite's MariaDB and loopback relay, labeler, PLC directory and PDS: the three services become
/// Healthy through Aspire's health checks, data flows both ways, the linking pages answer on loopback http, nothing
/// logs an error, and stopping leaves no process.
/// </summary>
[Collection(AspireApps.Collection)]
public sealed partial class AppHostRunTests
{
    private static readonly string[] Services = ["firehose", "queueworker", "linking"];
    private const string HealthCheckCategory = "Microsoft.Extensions.Diagnostics.HealthChecks.DefaultHealthCheckService";

    [Fact]
    public async Task Existing_forum_mode_runs_both_services_healthy_and_syncs_both_ways()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        var ct = timeout.Token;
        await using var forum = await ExistingForum.StartAsync();
        var settings = forum.Settings();
        var secrets = new[] { settings["Parameters:forum-app-password"], settings["Parameters:token-encryption-keys"], forum.Database.Server.Password }
            .Where(s => !string.IsNullOrEmpty(s)).ToList();

        await using var builder = await AppHostFactory.RunModeAsync(settings, ct);
        builder.Services.AddLogging(logging => logging.AddFakeLogging());
        var app = await builder.BuildAsync(ct);
        var appHostLogs = app.Services.GetFakeLogCollector();
        // The testing builder forwards each resource's console lines to the AppHost's logging (category
        // <AppHost>.Resources.<resource>), stderr lines at Error.
        IReadOnlyList<(string Resource, string Line, bool IsError, DateTimeOffset At)> ResourceLines() => [.. appHostLogs.GetSnapshot()
            .Where(r => r.Category?.Contains(".Resources.", StringComparison.Ordinal) == true)
            .Select(r => (r.Category![(r.Category!.LastIndexOf('.') + 1)..], r.Message, r.Level >= LogLevel.Error, r.Timestamp))];
        var processIds = new Dictionary<string, int>();
        DateTimeOffset healthyAt = DateTimeOffset.MaxValue, stoppingAt = DateTimeOffset.MaxValue;
        try
        {
            await app.StartAsync(ct);
            // Healthy through Aspire's own health checks (WithHttpHealthCheck("/health")).
            foreach (var name in Services)
            {
                await app.ResourceNotifications.WaitForResourceHealthyAsync(name, ct);
                Assert.True(app.ResourceNotifications.TryGetCurrentState(name, out var state));
                Assert.Equal(KnownResourceStates.Running, state.Snapshot.State?.Text);
                processIds[name] = ProcessId(state.Snapshot);
            }
            healthyAt = DateTimeOffset.UtcNow;

            // The linking service, as a member's browser reaches it under `dotnet run`: loopback http, its own
            // endpoint as the public URL (AT OAuth's localhost client), phpBB's session required.
            using (var http = new HttpClient { BaseAddress = app.GetEndpoint("linking", "http"), Timeout = TimeSpan.FromSeconds(30) })
            {
                using var page = await http.GetAsync("/atproto/link", ct);
                Assert.Equal(System.Net.HttpStatusCode.Unauthorized, page.StatusCode);
                Assert.Contains("Sign in to the forum first", await page.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
                using var metadata = await http.GetAsync("/atproto/oauth/client-metadata.json", ct);
                Assert.Equal(System.Net.HttpStatusCode.OK, metadata.StatusCode);
                using var document = System.Text.Json.JsonDocument.Parse(await metadata.Content.ReadAsStringAsync(ct));
                var redirect = Assert.Single(document.RootElement.GetProperty("redirect_uris").EnumerateArray()).GetString();
                Assert.Equal($"http://127.0.0.1:{app.GetEndpoint("linking", "http").Port}/atproto/oauth/callback", redirect);
            }

            // Network → phpBB: a signed forum post sent by the relay becomes a phpBB topic.
            const string subject = "Posted on the network, read on the forum";
            forum.PublishTopic(1000, "did:plc:authoraaaaaaaaaaaaaaaaaa", "3ktopic00001", subject, "Hello from the relay");
            await Eventually(async () => await forum.TopicTitleAsync(subject) == subject, () => "the relay's forum post never became a phpBB topic:\n" + Logs(ResourceLines()), ct);

            // phpBB → network: a linked member's post reaches their PDS as a net.vza.forum.post record.
            var did = await forum.LinkUserAsync(501);
            await forum.PostTopicAsync(501, "Posted on the forum", "Hello from phpBB");
            await Eventually(() => Task.FromResult(forum.Pds.Records.Keys.Any(uri => uri.StartsWith($"at://{did}/net.vza.forum.post/", StringComparison.Ordinal))),
                () => "the phpBB post never reached the loopback PDS:\n" + Logs(ResourceLines()), ct);
            Assert.Contains("Hello from phpBB", forum.Pds.Records.Single(r => r.Key.StartsWith($"at://{did}/", StringComparison.Ordinal)).Value, StringComparison.Ordinal);

            stoppingAt = DateTimeOffset.UtcNow;
            await app.StopAsync(ct);
        }
        finally
        {
            await app.DisposeAsync();
        }

        // Nothing logged an error: the AppHost (DCP, health checks, resource stderr) and each service's own log lines.
        // Aspire's health probes report Unhealthy at Error while a service starts (and once it stops): those two
        // windows are the point of a health check; between Healthy and the stop there must be none either.
        bool Probing(FakeLogRecord r) => r.Category == HealthCheckCategory && (r.Timestamp < healthyAt || r.Timestamp >= stoppingAt);
        var errors = appHostLogs.GetSnapshot()
            .Where(r => r.Level >= LogLevel.Error && r.Category?.Contains(".Resources.", StringComparison.Ordinal) != true && !Probing(r)).Select(r => $"{r.Category}: {r.Message}").ToList();
        Assert.True(errors.Count == 0, "the AppHost logged errors:\n" + string.Join('\n', errors));
        var resourceLines = ResourceLines();
        // Likewise each service's own health endpoint logs its checks' Unhealthy results (at Error) until it is ready.
        var serviceErrors = resourceLines
            .Where(l => (l.IsError || ErrorLine().IsMatch(l.Line)) && !(l.At < healthyAt && OwnHealthCheck().IsMatch(l.Line)))
            .Select(l => $"{l.Resource}: {l.Line}").ToList();
        Assert.True(serviceErrors.Count == 0, "a service logged errors:\n" + string.Join('\n', serviceErrors));
        Assert.Contains(resourceLines, l => l.Resource == "firehose");
        Assert.Contains(resourceLines, l => l.Resource == "queueworker");
        Assert.Contains(resourceLines, l => l.Resource == "linking");
        // No secret in any line a resource wrote.
        Assert.DoesNotContain(resourceLines, l => secrets.Any(s => l.Line.Contains(s!, StringComparison.Ordinal)));

        // Stopping the app stopped every process it started: both services and DCP.
        await Eventually(() => Task.FromResult(processIds.Values.All(Exited) && DcpProcessesOf(Environment.ProcessId).Count == 0),
            () => "processes left behind: " + string.Join(", ", processIds.Where(p => !Exited(p.Value)).Select(p => $"{p.Key} ({p.Value})").Concat(DcpProcessesOf(Environment.ProcessId).Select(p => $"dcp ({p})"))),
            CancellationToken.None, TimeSpan.FromSeconds(30));
    }

    private static string Logs(IEnumerable<(string Resource, string Line, bool IsError, DateTimeOffset At)> lines) =>
        string.Join('\n', lines.Select(l => $"{l.Resource}: {l.Line}"));

    /// <summary>The pid DCP reports for a project resource (the dashboard's "Process ID" property).</summary>
    internal static int ProcessId(CustomResourceSnapshot snapshot) =>
        Convert.ToInt32(Assert.Single(snapshot.Properties, p => p.Name == "executable.pid").Value, System.Globalization.CultureInfo.InvariantCulture);

    internal static bool Exited(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return process.HasExited;
        }
        catch (ArgumentException)
        {
            return true;
        }
    }

    /// <summary>DCP processes that monitor <paramref name="ownerPid"/> (DCP's <c>--monitor &lt;pid&gt;</c>), from /proc.</summary>
    internal static List<int> DcpProcessesOf(int ownerPid)
    {
        var found = new List<int>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid)) continue;
            try
            {
                var arguments = File.ReadAllText(Path.Combine(directory, "cmdline")).Split('\0');
                if (arguments.Length > 0 && Path.GetFileName(arguments[0]) == "dcp" &&
                    arguments.Zip(arguments.Skip(1)).Any(a => a.First == "--monitor" && a.Second == ownerPid.ToString(System.Globalization.CultureInfo.InvariantCulture)))
                {
                    found.Add(pid);
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
        return found;
    }

    internal static async Task Eventually(Func<Task<bool>> condition, Func<string> failure, CancellationToken ct, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(90));
        while (DateTime.UtcNow < deadline)
        {
            if (await condition()) return;
            await Task.Delay(200, ct);
        }
        Assert.Fail(failure());
    }

    /// <summary>The console logger's error and critical lines ("fail: …", "crit: …", Aspire's simple formatter).</summary>
    [GeneratedRegex(@"\b(fail|crit): ")]
    private static partial Regex ErrorLine();

    /// <summary>A service's health check report ("fail: …DefaultHealthCheckService… Health check X with status Unhealthy …").</summary>
    [GeneratedRegex(@"HealthChecks\.DefaultHealthCheckService|Health check \S+ with status Unhealthy")]
    private static partial Regex OwnHealthCheck();
}
