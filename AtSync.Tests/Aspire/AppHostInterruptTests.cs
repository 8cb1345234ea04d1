using System.Text.RegularExpressions;

namespace AtSync.Tests.Aspire;

/// <summary>
/// Ctrl+C on <c>dotnet run --project AtSync.AppHost</c> while the services are still starting (the moment an operator
/// most often gives up on a start): <c>dotnet run</c> ends, and so does every process it started: the AppHost, DCP
/// and the three services. <see cref="DashboardTests"/> does the same once everything is healthy.
/// </summary>
[Collection(AspireApps.Collection)]
public sealed partial class AppHostInterruptTests
{
    [Fact]
    public async Task Ctrl_C_while_the_services_start_stops_every_process()
    {
        await using var forum = await ExistingForum.StartAsync();
        var host = AppHostProcess.Start(forum.Settings());
        try
        {
            await host.WaitForLineAsync(LoginLine(), TimeSpan.FromMinutes(3));
            // DCP launches the services after the dashboard: the first service process is the moment.
            await AppHostRunTests.Eventually(() => Task.FromResult(DashboardTests.ServicesOf(host).Count > 0),
                () => "no service process started:\n" + host.Output, CancellationToken.None, TimeSpan.FromMinutes(2));
            Assert.True(await host.InterruptAsync(TimeSpan.FromSeconds(60)), "dotnet run did not stop on Ctrl+C:\n" + host.Output);
            // DcpPublisher:WaitForResourceCleanup (the AppHost's appsettings.json): no service outlives dotnet run.
            Assert.Empty(DashboardTests.ServicesOf(host));
        }
        finally
        {
            await host.DisposeAsync();
        }

        await AppHostRunTests.Eventually(() => Task.FromResult(host.RunningChildren().Count == 0),
            () => "left behind after Ctrl+C: " + string.Join(", ", host.RunningChildren()), CancellationToken.None, TimeSpan.FromSeconds(30));
    }

    [GeneratedRegex(@"Login to the dashboard at (?<url>http://localhost:\d+/login\?t=[0-9a-f]+)")]
    private static partial Regex LoginLine();
}
