using System.Diagnostics;
using System.Text;

namespace AtSync.Tests.Deployment.Live;

/// <summary>What a finished command printed and returned.</summary>
public sealed record CommandResult(string Command, int ExitCode, string StandardOutput, string StandardError)
{
    public string Output => StandardOutput + StandardError;

    /// <summary>Throws with the command's output when it failed.</summary>
    public CommandResult EnsureSuccess() => ExitCode == 0 ? this
        : throw new InvalidOperationException($"`{Command}` exited with {ExitCode}:\n{Tail(StandardOutput)}\n{Tail(StandardError)}");

    private static string Tail(string text) => text.Length <= 6000 ? text : "…" + text[^6000..];
}

/// <summary>Runs the command-line tools of the deployment test (docker, docker compose, mmdebstrap, dotnet).</summary>
public static class CommandRunner
{
    public static async Task<CommandResult> RunAsync(string file, IEnumerable<string> arguments, IReadOnlyDictionary<string, string?>? environment = null,
        TimeSpan? timeout = null, string? workingDirectory = null, string? standardInput = null)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = standardInput is not null,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null) start.Environment.Remove(name);
            else start.Environment[name] = value;
        }
        var text = $"{file} {string.Join(' ', start.ArgumentList)}";
        using var process = new Process { StartInfo = start };
        var output = new StringBuilder();
        var error = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (error) error.AppendLine(e.Data); };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return new CommandResult(text, 127, "", $"{file} could not be started: {ex.Message}");
        }
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (standardInput is not null)
        {
            await process.StandardInput.WriteAsync(standardInput);
            process.StandardInput.Close();
        }
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(5));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            lock (error) error.AppendLine($"(killed after {timeout ?? TimeSpan.FromMinutes(5)})");
            return new CommandResult(text, -1, output.ToString(), error.ToString());
        }
        process.WaitForExit();
        lock (output) lock (error) return new CommandResult(text, process.ExitCode, output.ToString(), error.ToString());
    }

    /// <summary>The full path of <paramref name="name"/> on PATH (or /usr/sbin, /sbin), or null.</summary>
    public static string? Which(string name)
    {
        var path = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).Concat(["/usr/sbin", "/sbin", "/usr/bin"]);
        return path.Select(dir => Path.Combine(dir, name)).FirstOrDefault(File.Exists);
    }
}
