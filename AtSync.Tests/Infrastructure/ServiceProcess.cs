using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using AtSync.Core.Settings;

namespace AtSync.Tests.Infrastructure;

/// <summary>
/// An AtSync service run as a real process (<c>dotnet AtSync.X.dll</c> from its build output) on a free loopback port,
/// with exactly the environment the test gives (AtSync's own settings from the test runner's environment are removed).
/// Captures every output line; stops with SIGTERM (graceful) or SIGKILL (crash).
/// </summary>
public sealed partial class ServiceProcess : IAsyncDisposable
{
    private static readonly string[] InheritedSettingsToRemove =
    [
        SettingNames.ConnectionString, SettingNames.ForumDid, SettingNames.ForumPdsUrl, SettingNames.ForumAppPassword, SettingNames.ForumHandle,
        SettingNames.TokenEncryptionKeys, SettingNames.TokenEncryptionKeyVersion, SettingNames.RelayUrl, SettingNames.LabelerDid,
        SettingNames.LabelerUrl, SettingNames.LogLevel, SettingNames.TablePrefix, SettingNames.PlcDirectoryUrl,
        SettingNames.IdentityAllowedHosts, SettingNames.IdentityDnsServer, SettingNames.IdentityPlainHttpPort,
        "ASPNETCORE_URLS", "ASPNETCORE_HTTP_PORTS", "HTTP_PORTS", "OTEL_EXPORTER_OTLP_ENDPOINT",
    ];

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly ConcurrentQueue<string> _errorLines = new();

    private ServiceProcess(Process process, int port)
    {
        _process = process;
        Port = port;
        BaseAddress = new Uri($"http://127.0.0.1:{port}");
    }

    public int Port { get; }

    public Uri BaseAddress { get; }

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Every line written to standard output and standard error so far.</summary>
    public IReadOnlyList<string> OutputLines => [.. _lines];

    public IReadOnlyList<string> ErrorLines => [.. _errorLines];

    public string Output => string.Join('\n', _lines);

    /// <summary>Polls <paramref name="condition"/> every 100 ms until it holds; fails at once, with the output, if the
    /// process exits, and with the output after <paramref name="timeout"/>.</summary>
    public async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (await condition()) return;
            if (HasExited) throw new InvalidOperationException($"the service exited with {ExitCode}:\n{Output}");
            await Task.Delay(100);
        }
        throw new TimeoutException($"condition not met in {timeout}:\n{Output}");
    }

    public static ServiceProcess Start(string project, IReadOnlyDictionary<string, string?> environment, int? port = null)
    {
        var assembly = RepositoryPaths.ServiceAssembly(project);
        var chosenPort = port ?? FreeLoopbackPort();
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(assembly)!,
        };
        start.ArgumentList.Add(assembly);
        foreach (var name in InheritedSettingsToRemove)
        {
            start.Environment.Remove(name);
        }
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{chosenPort}";
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["DOTNET_gcServer"] = "0";
        foreach (var (name, value) in environment)
        {
            if (value is null) start.Environment.Remove(name);
            else start.Environment[name] = value;
        }

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var service = new ServiceProcess(process, chosenPort);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) service._lines.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            service._lines.Enqueue(e.Data);
            service._errorLines.Enqueue(e.Data);
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return service;
    }

    public async Task<HttpResponseMessage> GetAsync(string path, CancellationToken cancellationToken = default)
    {
        using var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
        return await client.GetAsync(path, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Polls <paramref name="path"/> until it answers <paramref name="expected"/>; fails with the service's output if it never does.</summary>
    public async Task WaitForStatusAsync(string path, HttpStatusCode expected, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        HttpStatusCode? last = null;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The service exited with {_process.ExitCode} before {path} answered {expected}:\n{Output}");
            }
            try
            {
                using var response = await GetAsync(path).ConfigureAwait(false);
                last = response.StatusCode;
                if (response.StatusCode == expected) return;
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            await Task.Delay(100).ConfigureAwait(false);
        }
        throw new TimeoutException($"{path} did not answer {expected} within {timeout} (last: {last?.ToString() ?? "no answer"}):\n{Output}");
    }

    public Task WaitForHealthyAsync(TimeSpan timeout) => WaitForStatusAsync("/health", HttpStatusCode.OK, timeout);

    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
            _process.WaitForExit(); // drains the redirected output
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>SIGTERM: what <c>docker stop</c> sends; the service should shut down gracefully.</summary>
    public void Terminate()
    {
        if (!_process.HasExited && Kill(_process.Id, 15) != 0)
        {
            throw new InvalidOperationException($"kill -TERM {_process.Id} failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    /// <summary>SIGKILL: a crash at an arbitrary point.</summary>
    public void KillHard()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
    }

    public async ValueTask DisposeAsync()
    {
        KillHard();
        await WaitForExitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        _process.Dispose();
    }

    public static int FreeLoopbackPort()
    {
        return LoopbackPorts.Next();
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
