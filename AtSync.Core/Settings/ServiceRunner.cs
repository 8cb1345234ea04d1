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

        if (host.Services.GetService<Microsoft.Extensions.Configuration.IConfiguration>() is { } configuration
            && ListenAddresses.FirstInUse(configuration) is { } taken)
        {
            (error ?? Console.Error).WriteLine($"{name} cannot start: {taken} is already in use (choose another with --urls or ASPNETCORE_URLS).");
            return InvalidSettingsExitCode;
        }
        try
        {
            await host.RunAsync().ConfigureAwait(false);
        }
        catch (IOException ex) when (AddressInUse(ex) is { } address)
        {
            // Kestrel's bind failure: one line and the settings exit code, not a stack trace.
            (error ?? Console.Error).WriteLine($"{name} cannot start: {address} is already in use (choose another with --urls or ASPNETCORE_URLS).");
            return InvalidSettingsExitCode;
        }
        return 0;
    }

    /// <summary>The address a "failed to bind" failure names (Kestrel's own message says which), or null for other failures.</summary>
    private static string? AddressInUse(IOException exception)
    {
        var inUse = false;
        for (Exception? e = exception; e is not null && !inUse; e = e.InnerException)
        {
            // Kestrel wraps Microsoft.AspNetCore.Connections.AddressInUseException (around the SocketException).
            inUse = e.GetType().Name == "AddressInUseException"
                || e is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.AddressAlreadyInUse };
        }
        if (!inUse) return null;
        // "Failed to bind to address http://127.0.0.1:5071: address already in use."
        var message = exception.Message;
        var start = message.IndexOf("address ", StringComparison.Ordinal);
        var end = message.IndexOf(": address already in use", StringComparison.OrdinalIgnoreCase);
        return start >= 0 && end > start + 8 ? message[(start + 8)..end] : "the listening address";
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
