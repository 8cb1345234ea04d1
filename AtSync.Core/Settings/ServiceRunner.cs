using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace AtSync.Core.Settings;

/// <summary>
/// Runs a service host. The command line is checked first (<see cref="ServiceCommandLine"/>: <c>--help</c>, an unknown
/// verb); settings are validated before anything starts; a missing or malformed setting ends the
/// process with exit code 2 and one line on standard error that names the setting (never its value, never a stack trace);
/// so does a refused <see cref="IStartupCheck"/> (a credential its peer rejected).
/// </summary>
public static class ServiceRunner
{
    public const int InvalidSettingsExitCode = 2;

    public static async Task<int> RunServiceAsync(this IHost host, TextWriter? error = null, IReadOnlyList<string>? args = null, TextWriter? output = null)
    {
        var name = host.Services.GetRequiredService<IHostEnvironment>().ApplicationName;
        // Program.cs passes its args to the builder only; the process's own are the same ones (element 0 is the app).
        var verdict = ServiceCommandLine.Classify(args ?? Environment.GetCommandLineArgs().Skip(1).ToArray());
        switch (verdict.Action)
        {
            case ServiceCommandLine.Action.Help:
                (output ?? Console.Out).WriteLine(ServiceCommandLine.Usage(name));
                return 0;
            case ServiceCommandLine.Action.Version:
                (output ?? Console.Out).WriteLine($"{name} {System.Reflection.Assembly.GetEntryAssembly()?.GetName().Version}");
                return 0;
            case ServiceCommandLine.Action.Refuse:
                (error ?? Console.Error).WriteLine($"{name} cannot start: {ServiceCommandLine.Describe(verdict.Argument)} (see --help)");
                return InvalidSettingsExitCode;
        }
        try
        {
            host.Services.GetService<IStartupValidator>()?.Validate();
        }
        catch (Exception ex) when (DescribeSettingsFailure(ex) is { } line)
        {
            (error ?? Console.Error).WriteLine($"{name} cannot start: {line}");
            return InvalidSettingsExitCode;
        }
        foreach (var check in host.Services.GetServices<IStartupCheck>())
        {
            if (await check.CheckAsync(CancellationToken.None).ConfigureAwait(false) is { } refused)
            {
                (error ?? Console.Error).WriteLine($"{name} cannot start: {refused.ReplaceLineEndings(" ")}.");
                return InvalidSettingsExitCode;
            }
        }

        await host.RunAsync().ConfigureAwait(false);
        return 0;
    }

    /// <summary>The failures of an options-validation exception (possibly aggregated) as one line; null for other exceptions.</summary>
    public static string? DescribeSettingsFailure(Exception exception)
    {
        var failures = exception switch
        {
            OptionsValidationException single => single.Failures,
            AggregateException aggregate when aggregate.Flatten().InnerExceptions.All(e => e is OptionsValidationException) =>
                aggregate.Flatten().InnerExceptions.Cast<OptionsValidationException>().SelectMany(e => e.Failures),
            _ => null,
        };
        if (failures is null) return null;
        var line = string.Join("; ", failures.Distinct(StringComparer.Ordinal));
        return line.ReplaceLineEndings(" ") + ".";
    }
}
