using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace AtSync.Tests.Deployment.Live;

/// <summary>
/// The Docker daemon the deployment test talks to: the one already running (<c>DOCKER_HOST</c> or
/// /var/run/docker.sock), else one it starts itself as root with no bridge and no iptables rules
/// (<c>--bridge=none --iptables=false --ip-masq=false</c>: containers use host networking only), its own socket,
/// exec-root and pidfile under a temp folder. That daemon's --data-root is kept under /var/cache/atsync-docker,
/// keyed by a hash of the daemon's version, so the base image and build layers are reused by the next run on the
/// machine; a lock file keeps two runs from sharing it (the second one gets a throwaway data-root). Disposing stops
/// only a daemon this class started.
/// </summary>
public sealed class DockerHost : IAsyncDisposable
{
    public const string CacheRoot = "/var/cache/atsync-docker";

    private readonly Process? _daemon;
    private readonly DirectoryInfo? _temp;
    private readonly FileStream? _cacheLock;

    private DockerHost(string host, string description, Process? daemon, DirectoryInfo? temp, FileStream? cacheLock, bool persistent)
    {
        Host = host;
        Description = description;
        _daemon = daemon;
        _temp = temp;
        _cacheLock = cacheLock;
        PersistentCache = persistent;
        Environment = new Dictionary<string, string?>
        {
            ["DOCKER_HOST"] = host,
            // The classic builder: no buildx plugin is needed, and FROM finds the locally imported base image.
            ["DOCKER_BUILDKIT"] = "0",
            ["COMPOSE_DOCKER_CLI_BUILD"] = "0",
            ["DOCKER_CLI_HINTS"] = "false",
            ["COMPOSE_PROJECT_NAME"] = null,
            ["COMPOSE_FILE"] = null,
            ["COMPOSE_PROFILES"] = null,
        };
    }

    /// <summary>unix:///… of the daemon.</summary>
    public string Host { get; }

    public string Description { get; }

    /// <summary>Whether this run started the daemon (and so may prune what it built).</summary>
    public bool Started => _daemon is not null;

    /// <summary>Whether images built now are kept for the next run on this machine.</summary>
    public bool PersistentCache { get; }

    /// <summary>Environment for docker / docker compose commands.</summary>
    public IReadOnlyDictionary<string, string?> Environment { get; }

    public Task<CommandResult> DockerAsync(IEnumerable<string> arguments, TimeSpan? timeout = null, string? workingDirectory = null) =>
        CommandRunner.RunAsync("docker", arguments, Environment, timeout, workingDirectory);

    public static async Task<DockerHost> AcquireAsync()
    {
        if (CommandRunner.Which("docker") is null)
        {
            throw new InvalidOperationException("The deployment test needs the docker CLI and daemon: `apt-get install -y docker.io` (.ci/run installs it).");
        }
        var configured = System.Environment.GetEnvironmentVariable("DOCKER_HOST");
        var existing = !string.IsNullOrWhiteSpace(configured) ? configured
            : File.Exists("/var/run/docker.sock") ? "unix:///var/run/docker.sock" : null;
        if (existing is not null && await AnswersAsync(existing))
        {
            return new DockerHost(existing, $"existing daemon at {existing}", null, null, null, persistent: true);
        }
        if (existing is not null && !string.IsNullOrWhiteSpace(configured))
        {
            throw new InvalidOperationException($"DOCKER_HOST={configured} is set but no Docker daemon answers there.");
        }

        var dockerd = CommandRunner.Which("dockerd")
            ?? throw new InvalidOperationException("No Docker daemon is running and dockerd is not installed: `apt-get install -y docker.io` (.ci/run installs it).");
        if (!Signals.IsRoot)
        {
            throw new InvalidOperationException("No Docker daemon is running, and starting one (dockerd) needs root: run the tests as root or start Docker.");
        }
        var temp = Directory.CreateTempSubdirectory("atsync-dk-");
        var version = (await CommandRunner.RunAsync(dockerd, ["--version"])).StandardOutput.Trim();
        var key = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(version + "|overlay2|bridge=none")))[..16].ToLowerInvariant();
        FileStream? cacheLock = null;
        string dataRoot;
        try
        {
            Directory.CreateDirectory(CacheRoot);
            cacheLock = new FileStream(Path.Combine(CacheRoot, $"data-{key}.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            dataRoot = Path.Combine(CacheRoot, $"data-{key}");
        }
        catch (IOException)
        {
            cacheLock?.Dispose();
            cacheLock = null;
            dataRoot = Path.Combine(temp.FullName, "data");
        }
        catch (UnauthorizedAccessException)
        {
            dataRoot = Path.Combine(temp.FullName, "data");
        }
        var socket = Path.Combine(temp.FullName, "docker.sock");
        var start = new ProcessStartInfo(dockerd)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
                 {
                     "--bridge=none", "--iptables=false", "--ip6tables=false", "--ip-masq=false", "--log-level=warn",
                     "--data-root", dataRoot, "--exec-root", Path.Combine(temp.FullName, "x"),
                     "--pidfile", Path.Combine(temp.FullName, "docker.pid"), "-H", "unix://" + socket,
                 })
        {
            start.ArgumentList.Add(argument);
        }
        var log = new StringBuilder();
        var daemon = new Process { StartInfo = start };
        daemon.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.AppendLine(e.Data); };
        daemon.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.AppendLine(e.Data); };
        daemon.Start();
        daemon.BeginOutputReadLine();
        daemon.BeginErrorReadLine();
        var host = "unix://" + socket;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!await AnswersAsync(host))
        {
            if (daemon.HasExited || DateTime.UtcNow > deadline)
            {
                if (!daemon.HasExited) daemon.Kill();
                cacheLock?.Dispose();
                string text;
                lock (log) text = log.ToString();
                throw new InvalidOperationException($"dockerd did not start ({(daemon.HasExited ? $"exit {daemon.ExitCode}" : "no answer in 60 s")}):\n{text[Math.Max(0, text.Length - 4000)..]}");
            }
            await Task.Delay(200);
        }
        return new DockerHost(host, $"dockerd started by the test ({version}; data-root {dataRoot})", daemon, temp, cacheLock, persistent: cacheLock is not null);
    }

    private static async Task<bool> AnswersAsync(string host)
    {
        var result = await CommandRunner.RunAsync("docker", ["version", "--format", "{{.Server.Version}}"],
            new Dictionary<string, string?> { ["DOCKER_HOST"] = host }, TimeSpan.FromSeconds(15));
        return result.ExitCode == 0 && result.StandardOutput.Trim().Length > 0;
    }

    public async ValueTask DisposeAsync()
    {
        if (_daemon is not null)
        {
            if (!_daemon.HasExited) Signals.Send(_daemon.Id, Signals.Term);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await _daemon.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                _daemon.Kill(entireProcessTree: true);
                await _daemon.WaitForExitAsync(CancellationToken.None);
            }
            _daemon.Dispose();
        }
        _cacheLock?.Dispose();
        if (_temp is not null)
        {
            // dockerd leaves its default network namespace bind-mounted in the exec-root.
            if (Started) await CommandRunner.RunAsync("umount", [Path.Combine(_temp.FullName, "x", "netns", "default")], timeout: TimeSpan.FromSeconds(10));
            try
            {
                _temp.Delete(recursive: true);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }
}
