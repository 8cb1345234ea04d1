using System.Diagnostics;

namespace AtSync.Tests.Aspire;

/// <summary>
/// <c>dotnet run --project AtSync.AppHost</c> never hangs on what it lacks: it stops within seconds, exit code 2, with
/// one line saying what is missing and how to provide it, naming settings and never printing a value.
/// </summary>
[Collection(AspireApps.Collection)]
public sealed class StartupCheckTests
{
    /// <summary>The line the AppHost prints (dotnet run adds its own "Using launch settings" line before it).</summary>
    private static string CheckLine(AppHostProcess host) => Assert.Single(host.Lines, l => l.StartsWith("AtSync.AppHost: ", StringComparison.Ordinal));

    private static async Task<AppHostProcess> RunToExitAsync(IReadOnlyDictionary<string, string> settings, string? launchProfile = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var clock = Stopwatch.StartNew();
        var host = AppHostProcess.Start(settings, launchProfile, environment);
        Assert.True(await host.WaitForExitAsync(TimeSpan.FromSeconds(60)), "dotnet run did not stop:\n" + host.Output);
        Assert.Equal(2, host.ExitCode);
        // `dotnet run --no-build` itself takes a few seconds on a busy machine; the AppHost adds well under one.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(45), $"took {clock.Elapsed}");
        Assert.DoesNotContain(host.Lines, l => l.Contains("   at ", StringComparison.Ordinal)); // no stack trace
        return host;
    }

    [Fact]
    public async Task Without_an_existing_forum_or_the_full_stack_it_names_the_connection_string_and_how_to_set_it()
    {
        var settings = AppHostFactory.ExistingForumSettings();
        settings.Remove("ConnectionStrings:phpbb");
        // Where the full stack is built, it needs a container runtime: name one that does not exist.
        await using var host = await RunToExitAsync(settings, environment: new Dictionary<string, string> { ["ASPIRE_CONTAINER_RUNTIME"] = "atsync-no-such-runtime" });
        var line = CheckLine(host);
        if (AppHostFactory.HasFullStack)
        {
            Assert.Contains("needs a container runtime, and atsync-no-such-runtime is not installed", line, StringComparison.Ordinal);
        }
        else
        {
            Assert.Contains("ConnectionStrings:phpbb is not set", line, StringComparison.Ordinal);
            Assert.Contains("AtSyncAspireFullStack=false", line, StringComparison.Ordinal);
        }
        Assert.Contains("dotnet user-secrets set ConnectionStrings:phpbb", line, StringComparison.Ordinal);
        Assert.Contains("ConnectionStrings__phpbb", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_parameter_is_named_and_no_value_is_printed()
    {
        var settings = AppHostFactory.ExistingForumSettings();
        settings.Remove("Parameters:forum-did");
        settings.Remove("Parameters:token-encryption-keys");
        await using var host = await RunToExitAsync(settings);
        var line = CheckLine(host);
        Assert.Contains("missing parameters token-encryption-keys, forum-did", line, StringComparison.Ordinal);
        Assert.Contains("dotnet user-secrets set Parameters:token-encryption-keys", line, StringComparison.Ordinal);
        // Configured values, secret or not, appear nowhere in the output.
        foreach (var value in settings.Values)
        {
            Assert.DoesNotContain(value, host.Output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task The_https_profile_without_a_development_certificate_says_so()
    {
        // A home without any certificate store: no `dotnet dev-certs https` ever ran for this user.
        var home = Directory.CreateTempSubdirectory("atsync-nocert-home-");
        try
        {
            await using var host = await RunToExitAsync(AppHostFactory.ExistingForumSettings(), "https", new Dictionary<string, string>
            {
                ["HOME"] = home.FullName,
                ["DOTNET_CLI_HOME"] = home.FullName,
                ["NUGET_PACKAGES"] = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
                    ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages"),
            });
            var line = CheckLine(host);
            Assert.Contains("needs the ASP.NET Core development certificate", line, StringComparison.Ordinal);
            Assert.Contains("dotnet dev-certs https", line, StringComparison.Ordinal);
            Assert.Contains("--launch-profile http", line, StringComparison.Ordinal);
        }
        finally
        {
            home.Delete(recursive: true);
        }
    }
}
