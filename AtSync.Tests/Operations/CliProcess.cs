using System.Diagnostics;
using System.Text;
using AtSync.Core.Settings;
using AtSync.Tests.Infrastructure;

namespace AtSync.Tests.Operations;

/// <summary>The built <c>atsync</c> command run as a process with exactly the settings a test gives.</summary>
public sealed class CliProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();

    private CliProcess(Process process) => _process = process;

    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public System.Text.Json.JsonElement Json => System.Text.Json.JsonDocument.Parse(Stdout).RootElement;

        public override string ToString() => $"exit {ExitCode}\n{Stdout}\n{Stderr}";
    }

    public static string Assembly
    {
        get
        {
            var path = Path.Combine(RepositoryPaths.Root, "AtSync.Cli", "bin", RepositoryPaths.Configuration, "net10.0", "atsync.dll");
            return File.Exists(path) ? path : throw new FileNotFoundException($"atsync is not built at {path}", path);
        }
    }

    public static CliProcess Start(IReadOnlyDictionary<string, string?> environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Assembly);
        foreach (var arg in args) start.ArgumentList.Add(arg);
        foreach (var name in new[]
                 {
                     SettingNames.ConnectionString, SettingNames.ForumDid, SettingNames.ForumPdsUrl, SettingNames.ForumAppPassword,
                     SettingNames.TokenEncryptionKeys, SettingNames.TokenEncryptionKeyVersion, SettingNames.RelayUrl, SettingNames.LabelerDid,
                     SettingNames.LabelerUrl, SettingNames.TablePrefix, SettingNames.PlcDirectoryUrl,
        SettingNames.IdentityAllowedHosts, SettingNames.IdentityDnsServer, SettingNames.IdentityPlainHttpPort,
                 })
        {
            start.Environment.Remove(name);
        }
        foreach (var (name, value) in environment)
        {
            if (value is null) start.Environment.Remove(name);
            else start.Environment[name] = value;
        }
        var process = new Process { StartInfo = start };
        var cli = new CliProcess(process);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (cli._stdout) cli._stdout.Append(e.Data).Append('\n'); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (cli._stderr) cli._stderr.Append(e.Data).Append('\n'); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return cli;
    }

    public static async Task<Result> RunAsync(IReadOnlyDictionary<string, string?> environment, params string[] args)
    {
        using var cli = Start(environment, args);
        return await cli.WaitAsync(TimeSpan.FromMinutes(3));
    }

    public async Task<Result> WaitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            throw new TimeoutException($"atsync did not finish within {timeout}:\n{_stdout}\n{_stderr}");
        }
        _process.WaitForExit();
        lock (_stdout) lock (_stderr) return new Result(_process.ExitCode, _stdout.ToString(), _stderr.ToString());
    }

    public bool HasExited => _process.HasExited;

    public void KillHard() => _process.Kill(entireProcessTree: true);

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.Dispose();
    }
}
