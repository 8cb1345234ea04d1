using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;

namespace AtSync.Tests.Aspire.FullStack;

/// <summary>
/// <c>dotnet run --project AtSync.AppHost</c>: every resource becomes healthy within the seeds' two minutes (plus image
/// pulls and builds on a cold machine). Needs Docker; skipped with that reason where there is none.
/// </summary>
public sealed class FullStackRunTests
{
    private static readonly string[] Resources = ["mysql", "phpbb-db", "phpbb", "forum", "firehose", "queueworker"];

    [ContainerRuntimeFact]
    public async Task Every_resource_becomes_healthy()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        await using var builder = await AppHostFactory.RunModeAsync(FullStackSettings.Values(), timeout.Token);
        await using var app = await builder.BuildAsync(timeout.Token);
        await app.StartAsync(timeout.Token);

        foreach (var name in Resources)
        {
            await app.ResourceNotifications.WaitForResourceHealthyAsync(name, timeout.Token);
        }

        using var firehose = app.CreateHttpClient("firehose", "http");
        Assert.True((await firehose.GetAsync("/health", timeout.Token)).IsSuccessStatusCode);
        using var queueWorker = app.CreateHttpClient("queueworker", "http");
        Assert.True((await queueWorker.GetAsync("/health", timeout.Token)).IsSuccessStatusCode);
        using var forum = app.CreateHttpClient("forum", "http");
        Assert.True((await forum.GetAsync("/healthz.php", timeout.Token)).IsSuccessStatusCode);

        await app.StopAsync(timeout.Token);
    }
}
