using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using AtSync.Tests.Infrastructure;

namespace AtSync.Tests.Aspire;

/// <summary>
/// <c>dotnet run --project AtSync.AppHost</c> as a user types it (already built: <c>--no-build</c>), in its own process
/// group so that <see cref="InterruptAsync"/> is the terminal's Ctrl+C. Captures every output line.
/// </summary>
internal sealed partial class AppHostProcess : IAsyncDisposable
{
    /// <summary>Settings of the test runner's environment that must not reach the AppHost (it passes its own).</summary>
    private static readonly string[] Inherited = ["ConnectionStrings__phpbb", "ASPNETCORE_URLS", "DOTNET_LAUNCH_PROFILE", "OTEL_EXPORTER_OTLP_ENDPOINT"];

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();
    /// <summary>Every AppHost pid seen so far: a DCP that still monitors one after it exited is left behind too.</summary>
    private readonly HashSet<string> _appHostPids = new(StringComparer.Ordinal);

    private AppHostProcess(Process process) => _process = process;

    public static string ProjectPath => Path.Combine(RepositoryPaths.Root, "AtSync.AppHost", "AtSync.AppHost.csproj");

    public IReadOnlyList<string> Lines => [.. _lines];

    public string Output => string.Join('\n', _lines);

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Starts it with exactly these settings as environment (<c>ConnectionStrings:phpbb</c> → <c>ConnectionStrings__phpbb</c>).</summary>
    public static AppHostProcess Start(IReadOnlyDictionary<string, string> settings, string? launchProfile = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo("setsid")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = RepositoryPaths.Root,
        };
        foreach (var argument in new[] { "dotnet", "run", "--no-build", "--project", ProjectPath }) start.ArgumentList.Add(argument);
        if (launchProfile is not null)
        {
            start.ArgumentList.Add("--launch-profile");
            start.ArgumentList.Add(launchProfile);
        }
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("Parameters__", StringComparison.Ordinal) || Inherited.Contains(k)).ToList())
        {
            start.Environment.Remove(key);
        }
        foreach (var (key, value) in settings)
        {
            // Environment names: sections with "__", and Aspire reads a parameter's dashes as underscores too.
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal).Replace('-', '_')] = value;
        }
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var host = new AppHostProcess(process);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) host._lines.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) host._lines.Enqueue(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return host;
    }

    /// <summary>Waits for an output line matching <paramref name="pattern"/>; fails with the output if the process exits first.</summary>
    public async Task<Match> WaitForLineAsync(Regex pattern, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            foreach (var line in _lines)
            {
                var match = pattern.Match(line);
                if (match.Success) return match;
            }
            if (_process.HasExited) throw new InvalidOperationException($"dotnet run exited with {_process.ExitCode} before printing /{pattern}/:\n{Output}");
            await Task.Delay(100);
        }
        throw new TimeoutException($"dotnet run printed no /{pattern}/ within {timeout}:\n{Output}");
    }

    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            _process.WaitForExit(); // drains the redirected output
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Ctrl+C: SIGINT to the whole process group (dotnet run and the AppHost it started).</summary>
    public async Task<bool> InterruptAsync(TimeSpan timeout)
    {
        if (!_process.HasExited) _ = Kill(-_process.Id, 2);
        return await WaitForExitAsync(timeout);
    }

    /// <summary>
    /// Processes of this checkout's AppHost and services, and DCP processes that monitor an AppHost this process ran
    /// (alive or not), as /proc shows them.
    /// </summary>
    public IReadOnlyList<string> RunningChildren()
    {
        var appHostPids = _appHostPids;
        var found = new List<string>();
        var all = new List<(int Pid, string[] Arguments)>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid)) continue;
            try
            {
                var arguments = File.ReadAllText(Path.Combine(directory, "cmdline")).Split('\0', StringSplitOptions.RemoveEmptyEntries);
                if (arguments.Length > 0) all.Add((pid, arguments));
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
        var appHost = Path.Combine(RepositoryPaths.Root, "AtSync.AppHost", "bin");
        foreach (var (pid, arguments) in all)
        {
            if (arguments.Any(a => a.StartsWith(appHost, StringComparison.Ordinal) && (a.EndsWith("/AtSync.AppHost", StringComparison.Ordinal) || a.EndsWith("/AtSync.AppHost.dll", StringComparison.Ordinal))))
            {
                appHostPids.Add(pid.ToString(CultureInfo.InvariantCulture));
                found.Add($"AtSync.AppHost ({pid})");
            }
        }
        foreach (var (pid, arguments) in all)
        {
            var name = Path.GetFileName(arguments[0]);
            if (name == "dcp" && arguments.Zip(arguments.Skip(1)).Any(a => a.First == "--monitor" && appHostPids.Contains(a.Second)))
            {
                found.Add($"dcp ({pid})");
            }
            if (name is "AtSync.Firehose" or "AtSync.QueueWorker" or "AtSync.Linking" && arguments[0].StartsWith(RepositoryPaths.Root + "/", StringComparison.Ordinal))
            {
                found.Add($"{name} ({pid})");
            }
        }
        return found;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _ = Kill(-_process.Id, 9);
            await WaitForExitAsync(TimeSpan.FromSeconds(10));
        }
        _process.Dispose();
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
