using System.Text.RegularExpressions;
using AtSync.Tests.Infrastructure;
using Microsoft.Playwright;

namespace AtSync.Tests.Aspire;

/// <summary>
/// The Aspire dashboard as a developer sees it: <c>dotnet run --project AtSync.AppHost</c> in existing-forum mode
/// (against the suite's MariaDB and the loopback peers), its login link opened in a real browser (Playwright driving
/// Debian's headless chromium). The resources page shows the three services Running and Healthy; the traces and structured
/// logs pages show entries of the Firehose and the QueueWorker. Ctrl+C then stops every process before <c>dotnet run</c> returns. Screenshots go to the test results (<see cref="ResultsDirectory"/>).
/// </summary>
[Collection(AspireApps.Collection)]
public sealed partial class DashboardTests
{
    public const string ChromiumPath = "/usr/bin/chromium";
    private static readonly string[] Services = ["firehose", "queueworker", "linking"];
    /// <summary>The services whose traces and structured logs the test looks for (the linking service is idle: no member visits it).</summary>
    private static readonly string[] Busy = ["firehose", "queueworker"];

    /// <summary><c>ATSYNC_TEST_RESULTS</c> (CI: artifacts/ci), else artifacts/test-results of the checkout.</summary>
    public static string ResultsDirectory =>
        Directory.CreateDirectory(Environment.GetEnvironmentVariable("ATSYNC_TEST_RESULTS") is { Length: > 0 } configured
            ? configured
            : Path.Combine(RepositoryPaths.Root, "artifacts", "test-results")).FullName;

    [Fact]
    public async Task Dashboard_shows_both_services_running_and_healthy_with_their_traces_and_logs()
    {
        Assert.True(File.Exists(ChromiumPath), $"{ChromiumPath} is missing: apt-get install -y chromium (.ci/run installs it)");
        await using var forum = await ExistingForum.StartAsync();
        var host = AppHostProcess.Start(forum.Settings());
        IReadOnlyList<string> running;
        try
        {
            var login = (await host.WaitForLineAsync(LoginLine(), TimeSpan.FromMinutes(3))).Groups["url"].Value;

            using var playwright = await Playwright.CreateAsync();
            await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = ChromiumPath,
                Headless = true,
                Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
            });
            var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1600, Height = 900 } });
            page.SetDefaultTimeout(30_000);

            // The login link sets the dashboard's auth cookie and lands on the resources page.
            await page.GotoAsync(login);
            foreach (var name in Services)
            {
                await WaitForRowAsync(page, name, row => row.Contains("Running", StringComparison.Ordinal) && !Regex.IsMatch(row, "Unhealthy|Starting|Waiting"),
                    "Running and Healthy", host);
            }
            // The details panel of each resource names its health state.
            foreach (var name in Services)
            {
                await page.GetByRole(AriaRole.Row).Filter(new LocatorFilterOptions { HasText = name }).First
                    .GetByText(name, new LocatorGetByTextOptions { Exact = true }).First.ClickAsync();
                await Expect(page.GetByText($"Project: {name}", new PageGetByTextOptions { Exact = true }).First, $"the details of {name}", page, host);
                await WaitForRowAsync(page, "Health state", row => row.Contains("Healthy", StringComparison.Ordinal) && !row.Contains("Unhealthy", StringComparison.Ordinal),
                    $"{name}'s health state Healthy", host);
                await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ResultsDirectory, $"dashboard-resources-{name}.png"), FullPage = true });
            }
            await page.GotoAsync(new Uri(new Uri(login), "/").ToString());
            await WaitForRowAsync(page, "queueworker", row => row.Contains("Running", StringComparison.Ordinal), "Running", host);
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ResultsDirectory, "dashboard-resources.png"), FullPage = true });

            // Each page filtered to one service (the dashboard's /<page>/resource/<name> route): the busier service's
            // entries cannot crowd the other's out of the virtualized grid.
            foreach (var (path, what) in new[] { ("traces", "traces"), ("structuredlogs", "structured logs") })
            {
                foreach (var name in Busy)
                {
                    await page.GotoAsync(new Uri(new Uri(login), $"/{path}/resource/{name}").ToString());
                    await WaitForRowAsync(page, name, _ => true, $"an entry in {what}", host, reload: true);
                    await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ResultsDirectory, $"dashboard-{path}-{name}.png"), FullPage = true });
                }
            }

            running = host.RunningChildren();
            Assert.Contains(running, p => p.StartsWith("AtSync.Firehose", StringComparison.Ordinal));
            Assert.Contains(running, p => p.StartsWith("AtSync.QueueWorker", StringComparison.Ordinal));
            Assert.Contains(running, p => p.StartsWith("AtSync.Linking", StringComparison.Ordinal));
            var interrupted = System.Diagnostics.Stopwatch.StartNew();
            var stopped = await host.InterruptAsync(TimeSpan.FromSeconds(60));
            // The AppHost's own output, with how long Ctrl+C took: the artifact to read when a stop is slow.
            await File.WriteAllTextAsync(Path.Combine(ResultsDirectory, "dashboard-apphost.log"),
                $"Ctrl+C: {(stopped ? $"stopped after {interrupted.Elapsed.TotalSeconds:F1} s" : "not stopped within 60 s")}\n{host.Output}\n");
            Assert.True(stopped, "dotnet run did not stop on Ctrl+C:\n" + host.Output);
            // The AppHost waits for DCP's cleanup (appsettings.json: DcpPublisher:WaitForResourceCleanup): when the
            // prompt returns, no service runs any more.
            Assert.Empty(ServicesOf(host));
        }
        finally
        {
            await host.DisposeAsync();
        }

        // Ctrl+C stopped the AppHost, DCP and the three services.
        await AppHostRunTests.Eventually(() => Task.FromResult(host.RunningChildren().Count == 0),
            () => "left behind after Ctrl+C: " + string.Join(", ", host.RunningChildren()), CancellationToken.None, TimeSpan.FromSeconds(30));
    }

    /// <summary>The AtSync service processes among <see cref="AppHostProcess.RunningChildren"/>.</summary>
    internal static List<string> ServicesOf(AppHostProcess host) =>
        [.. host.RunningChildren().Where(p => p.StartsWith("AtSync.", StringComparison.Ordinal) && !p.StartsWith("AtSync.AppHost", StringComparison.Ordinal))];

    /// <summary>Waits until a grid row naming <paramref name="name"/> satisfies <paramref name="condition"/> (its text).</summary>
    private static async Task WaitForRowAsync(IPage page, string name, Func<string, bool> condition, string what, AppHostProcess host, bool reload = false)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        var last = "";
        for (var attempt = 1; DateTime.UtcNow < deadline; attempt++)
        {
            var rows = page.GetByRole(AriaRole.Row).Filter(new LocatorFilterOptions { HasText = name });
            foreach (var row in await rows.AllAsync())
            {
                last = (await row.InnerTextAsync()).ReplaceLineEndings(" ");
                if (condition(last)) return;
            }
            await Task.Delay(1000);
            // The pages update live; a reload now and then only covers a missed update (rows render after it).
            if (reload && attempt % 10 == 0) await page.ReloadAsync();
        }
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ResultsDirectory, $"dashboard-failed-{name}.png"), FullPage = true });
        Assert.Fail($"the dashboard ({page.Url}) shows no row of {name} with {what}; last row: '{last}'\npage:\n{await page.InnerTextAsync("body")}\nAppHost:\n{host.Output}");
    }

    private static async Task Expect(ILocator locator, string what, IPage page, AppHostProcess host)
    {
        try
        {
            await locator.WaitForAsync(new LocatorWaitForOptions { Timeout = 60_000 });
        }
        catch (TimeoutException)
        {
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ResultsDirectory, "dashboard-failed.png"), FullPage = true });
            var body = await page.InnerTextAsync("body");
            await page.GotoAsync(new Uri(new Uri(page.Url), "/structuredlogs").ToString());
            await Task.Delay(3000);
            Assert.Fail($"the dashboard shows no {what}\npage:\n{body}\nstructured logs:\n{await page.InnerTextAsync("body")}\nAppHost:\n{host.Output}");
        }
    }

    [GeneratedRegex(@"Login to the dashboard at (?<url>http://localhost:\d+/login\?t=[0-9a-f]+)")]
    private static partial Regex LoginLine();
}
