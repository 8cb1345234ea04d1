using System.Diagnostics;
using System.Globalization;
using Aspire.Hosting;
using Aspire.Hosting.Testing;
using AtSync.Tests.Aspire;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AtSync.Benchmarks;

/// <summary>
/// <c>bench-apphost [runs]</c>: the AppHost in existing-forum mode under real DCP (as <c>AppHostRunTests</c> starts it:
/// the tests' MariaDB and loopback relay, labeler, PLC directory and PDS), started <c>runs</c> times; prints how long
/// each service takes from <c>StartAsync</c> to Healthy through Aspire's health checks. Numbers, not assertions.
/// </summary>
internal static class AppHostBench
{
    private static readonly string[] Services = ["firehose", "queueworker"];

    public static async Task<int> RunAsync(string[] args)
    {
        var runs = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 3;
        await using var forum = await ExistingForum.StartAsync();
        var times = Services.ToDictionary(s => s, _ => new List<double>());
        var started = new List<double>();
        Console.WriteLine($"bench-apphost: {runs} runs, existing-forum mode, {Environment.ProcessorCount} cores, load average {LoadAverage()}");
        for (var run = 1; run <= runs; run++)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
            await using var builder = await AppHostFactory.RunModeAsync(forum.Settings(), timeout.Token);
            builder.Services.AddLogging(logging => logging.ClearProviders()); // the numbers, not the resources' logs
            await using var app = await builder.BuildAsync(timeout.Token);
            var clock = Stopwatch.StartNew();
            await app.StartAsync(timeout.Token);
            started.Add(clock.Elapsed.TotalSeconds);
            var healthy = Services.Select(async name =>
            {
                await app.ResourceNotifications.WaitForResourceHealthyAsync(name, timeout.Token);
                return (name, clock.Elapsed.TotalSeconds);
            }).ToList();
            foreach (var (name, seconds) in await Task.WhenAll(healthy))
            {
                times[name].Add(seconds);
            }
            Console.WriteLine($"run {run}: StartAsync returned after {started[^1]:0.00} s; " +
                string.Join(", ", Services.Select(s => $"{s} Healthy after {times[s][^1]:0.00} s")));
            await app.StopAsync(timeout.Token);
        }
        Console.WriteLine($"StartAsync (DCP up, resources created): {Summary(started)}");
        foreach (var name in Services)
        {
            Console.WriteLine($"{name} start-to-Healthy: {Summary(times[name])}");
        }
        return 0;
    }

    private static string Summary(List<double> values)
    {
        var sorted = values.Order().ToList();
        return $"min {sorted[0]:0.00} s, median {sorted[sorted.Count / 2]:0.00} s, max {sorted[^1]:0.00} s";
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
}
