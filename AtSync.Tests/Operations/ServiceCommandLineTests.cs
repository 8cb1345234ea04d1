using System.Diagnostics;
using AtSync.Core.Settings;
using AtSync.Tests.Infrastructure;

namespace AtSync.Tests.Operations;

/// <summary>The services take no verbs: <c>--help</c> answers and exits, an unknown verb is refused (exit 2), neither starts the service.</summary>
public sealed class ServiceCommandLineTests
{
    [Theory]
    [InlineData("AtSync.Firehose")]
    [InlineData("AtSync.QueueWorker")]
    public async Task Help_prints_the_usage_and_exits_0_without_starting(string project)
    {
        var (code, stdout, stderr) = await RunAsync(project, "--help");
        Assert.Equal(0, code);
        Assert.StartsWith($"Usage: {project} ", stdout, StringComparison.Ordinal);
        Assert.Contains("_FILE", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("Now listening", stdout, StringComparison.Ordinal);
        Assert.Equal("", stderr);
    }

    [Theory]
    [InlineData("AtSync.Firehose", "status", "unknown command 'status'")]
    [InlineData("AtSync.QueueWorker", "migrate", "unknown command 'migrate'")]
    [InlineData("AtSync.QueueWorker", "p@ss:SECRET", "unexpected command-line argument")]
    public async Task An_unknown_verb_is_refused_with_exit_2_and_one_line(string project, string verb, string expected)
    {
        var (code, stdout, stderr) = await RunAsync(project, verb);
        Assert.Equal(ServiceRunner.InvalidSettingsExitCode, code);
        Assert.Equal("", stdout);
        Assert.Equal($"{project} cannot start: {expected} (see --help)", stderr.TrimEnd('\n'));
    }

    [Fact]
    public void Configuration_switches_and_their_values_are_not_verbs()
    {
        Assert.Equal(ServiceCommandLine.Action.Run, ServiceCommandLine.Classify(["--urls", "http://127.0.0.1:5000", "--Firehose:BatchSize=10"]).Action);
        Assert.Equal(ServiceCommandLine.Action.Refuse, ServiceCommandLine.Classify(["--urls", "http://x", "run"]).Action);
        Assert.Equal(ServiceCommandLine.Action.Help, ServiceCommandLine.Classify(["-h"]).Action);
        Assert.Equal(ServiceCommandLine.Action.Run, ServiceCommandLine.Classify([]).Action);
    }

    /// <summary>Runs the built service with arguments and no settings at all: whatever it prints comes before any settings check.</summary>
    private static async Task<(int Code, string Stdout, string Stderr)> RunAsync(string project, params string[] args)
    {
        var assembly = RepositoryPaths.ServiceAssembly(project);
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(assembly);
        foreach (var arg in args) start.ArgumentList.Add(arg);
        foreach (var (name, _) in SecretFiles.Secrets) start.Environment.Remove(name);
        start.Environment.Remove(SettingNames.ForumDid);
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{ServiceProcess.FreeLoopbackPort()}";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{project} {string.Join(' ', args)} did not exit: it started");
        }
        return (process.ExitCode, await stdout, await stderr);
    }
}
