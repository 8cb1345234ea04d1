using System.Diagnostics;

namespace AtSync.Tests.Aspire.FullStack;

/// <summary>A fact that needs a working container runtime: skipped, with the reason, where <c>docker info</c> fails.</summary>
public sealed class ContainerRuntimeFactAttribute : FactAttribute
{
    private static readonly Lazy<string?> Unavailable = new(Probe);

    public ContainerRuntimeFactAttribute()
    {
        if (Unavailable.Value is { } reason) Skip = $"{FullStackSettings.RunSkipReason}: {reason}";
    }

    private static string? Probe()
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo("docker", "info --format {{.ServerVersion}}")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            });
            if (process is null) return "docker could not be started";
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromSeconds(20)))
            {
                process.Kill(entireProcessTree: true);
                return "docker info did not answer within 20 s";
            }
            return process.ExitCode == 0 ? null : $"docker info exited {process.ExitCode}: {stderr.Result.Trim().Split('\n')[0]}";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "docker is not installed";
        }
    }
}
