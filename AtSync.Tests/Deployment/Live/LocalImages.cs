using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using AtSync.Tests.Infrastructure;

namespace AtSync.Tests.Deployment.Live;

/// <summary>The images the override names, built locally from <c>docker/test-assets/</c> (see its README.md).</summary>
public sealed record LocalImageSet(string Firehose, string QueueWorker, string Linking, string Mysql, string Forum, string Proxy, bool BaseFromCache, double BuildSeconds);

/// <summary>
/// Builds the deployment test's images: a Debian bookworm base (<c>mmdebstrap --variant=minbase</c> then
/// <c>docker import</c>, reused for 7 days where the daemon's storage is kept), and on it the two services published
/// from this repository, the MySQL stand-in (MariaDB), the forum stand-in and the nginx stand-in (Debian's nginx in place
/// of the pinned official image, which no registry here can give), with <c>docker build --network host</c> (apt inside
/// the build reaches the machine's Debian mirror). The nginx stand-in is tagged <c>atsync-test/nginx:&lt;pinned tag&gt;</c>:
/// a local build cannot carry the official image's digest, and an official name must not be shadowed in a daemon that
/// may be the machine's own.
/// </summary>
public static class LocalImages
{
    private const string BaseRepository = "atsync-test/debian-bookworm-minbase";
    private static readonly TimeSpan BaseMaxAge = TimeSpan.FromDays(7);

    private static string Assets => Path.Combine(RepositoryPaths.Root, "docker", "test-assets");

    public static async Task<LocalImageSet> BuildAsync(DockerHost docker, DirectoryInfo work, Action<string> log)
    {
        var started = DateTime.UtcNow;
        var (baseImage, cached) = await EnsureBaseAsync(docker, work, log);

        var runtime = RuntimeLayout();
        var firehose = await BuildServiceAsync(docker, work, baseImage, runtime, "AtSync.Firehose", "atsync-test/firehose:local", log);
        var queueWorker = await BuildServiceAsync(docker, work, baseImage, runtime, "AtSync.QueueWorker", "atsync-test/queueworker:local", log);
        var linking = await BuildServiceAsync(docker, work, baseImage, runtime, "AtSync.Linking", "atsync-test/linking:local", log);

        const string mysql = "atsync-test/mysql-standin:local";
        await BuildAsync(docker, Path.Combine(Assets, "mysql-standin"), mysql, baseImage, [], log);

        var forumContext = Directory.CreateDirectory(Path.Combine(work.FullName, "forum-standin"));
        foreach (var file in Directory.GetFiles(Path.Combine(Assets, "forum-standin")))
        {
            File.Copy(file, Path.Combine(forumContext.FullName, Path.GetFileName(file)), overwrite: true);
        }
        File.Copy(Path.Combine(RepositoryPaths.Root, "AtSync.Tests", "Infrastructure", "phpbb33-schema.sql"),
            Path.Combine(forumContext.FullName, "phpbb33-schema.sql"), overwrite: true);
        const string forum = "atsync-test/forum-standin:local";
        await BuildAsync(docker, forumContext.FullName, forum, baseImage, [], log);

        var proxy = "atsync-test/nginx:" + PinnedProxyTag();
        await BuildAsync(docker, Path.Combine(Assets, "nginx-standin"), proxy, baseImage, [], log);

        return new LocalImageSet(firehose, queueWorker, linking, mysql, forum, proxy, cached, (DateTime.UtcNow - started).TotalSeconds);
    }

    /// <summary>The tag the compose file pins the proxy's image to (<c>nginx:&lt;tag&gt;@sha256:…</c>).</summary>
    public static string PinnedProxyTag()
    {
        var image = ComposeFile.Load(Path.Combine(RepositoryPaths.Root, ComposeDeployment.ComposeFileName))["proxy"].Image!;
        return image[(image.LastIndexOf(':', image.IndexOf('@')) + 1)..image.IndexOf('@')];
    }

    /// <summary>One more image from <c>docker/test-assets/&lt;folder&gt;</c> on the same base (e.g. the monitoring profile's Prometheus).</summary>
    public static async Task<string> BuildAssetAsync(DockerHost docker, DirectoryInfo work, string folder, string tag, Action<string> log)
    {
        var (baseImage, _) = await EnsureBaseAsync(docker, work, log);
        await BuildAsync(docker, Path.Combine(Assets, folder), tag, baseImage, [], log);
        return tag;
    }

    /// <summary>The base image, imported from a fresh mmdebstrap rootfs unless the daemon holds one younger than 7 days.</summary>
    private static async Task<(string Image, bool Cached)> EnsureBaseAsync(DockerHost docker, DirectoryInfo work, Action<string> log)
    {
        var recipe = "mmdebstrap --variant=minbase bookworm";
        var tag = $"{BaseRepository}:{Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(recipe)))[..12].ToLowerInvariant()}";
        var inspect = await docker.DockerAsync(["image", "inspect", "--format", "{{.Created}}", tag]);
        if (inspect.ExitCode == 0 && DateTimeOffset.TryParse(inspect.StandardOutput.Trim(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var created)
            && DateTimeOffset.UtcNow - created < BaseMaxAge)
        {
            log($"base image {tag} from the cache (created {created:u})");
            return (tag, true);
        }
        var mmdebstrap = CommandRunner.Which("mmdebstrap")
            ?? throw new InvalidOperationException("mmdebstrap is not installed: `apt-get install -y mmdebstrap` (.ci/run installs it).");
        var rootfs = Path.Combine(work.FullName, "rootfs.tar");
        List<string> arguments = ["--variant=minbase", "--quiet", "bookworm", rootfs];
        // Outside Debian (e.g. Ubuntu CI runners) the suite's mirror and keyring must be named.
        if (!File.ReadAllText("/etc/os-release").Contains("ID=debian", StringComparison.Ordinal))
        {
            arguments.Add("http://deb.debian.org/debian");
            if (File.Exists("/usr/share/keyrings/debian-archive-keyring.gpg")) arguments.Insert(0, "--keyring=/usr/share/keyrings/debian-archive-keyring.gpg");
        }
        log($"building the base rootfs: mmdebstrap {string.Join(' ', arguments)}");
        (await CommandRunner.RunAsync(mmdebstrap, arguments, timeout: TimeSpan.FromMinutes(8))).EnsureSuccess();
        (await docker.DockerAsync(["import", "--message", recipe, rootfs, tag], TimeSpan.FromMinutes(3))).EnsureSuccess();
        File.Delete(rootfs);
        return (tag, false);
    }

    /// <summary>The .NET runtime the tests run on: dotnet root, version, and the shared frameworks to copy.</summary>
    private static (string Root, string Version) RuntimeLayout()
    {
        // …/shared/Microsoft.NETCore.App/<version>/
        var runtimeDirectory = new DirectoryInfo(RuntimeEnvironment.GetRuntimeDirectory().TrimEnd('/'));
        var root = runtimeDirectory.Parent!.Parent!.Parent!.FullName;
        return (root, runtimeDirectory.Name);
    }

    private static async Task<string> BuildServiceAsync(DockerHost docker, DirectoryInfo work, string baseImage, (string Root, string Version) runtime,
        string project, string tag, Action<string> log)
    {
        var context = Directory.CreateDirectory(Path.Combine(work.FullName, project));
        var app = Path.Combine(context.FullName, "app");
        // Publish what the tests built (same configuration), framework-dependent, without building again.
        (await CommandRunner.RunAsync("dotnet",
            ["publish", Path.Combine(RepositoryPaths.Root, project, project + ".csproj"), "-c", RepositoryPaths.Configuration, "--no-build", "--no-restore",
             "--self-contained", "false", "-p:AtSyncAspire=false", "-o", app, "-nologo", "-v", "quiet"],
            new Dictionary<string, string?> { ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1", ["MSBUILDNOINPROCNODE"] = "1" }, TimeSpan.FromMinutes(5))).EnsureSuccess();
        var dotnet = Directory.CreateDirectory(Path.Combine(context.FullName, "dotnet"));
        File.Copy(Path.Combine(runtime.Root, "dotnet"), Path.Combine(dotnet.FullName, "dotnet"), overwrite: true);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(Path.Combine(dotnet.FullName, "dotnet"), (UnixFileMode)0b111_101_101);
        CopyTree(Path.Combine(runtime.Root, "host"), Path.Combine(dotnet.FullName, "host"));
        foreach (var framework in new[] { "Microsoft.NETCore.App", "Microsoft.AspNetCore.App" })
        {
            var source = Path.Combine(runtime.Root, "shared", framework, runtime.Version);
            if (!Directory.Exists(source)) throw new InvalidOperationException($"{framework} {runtime.Version} is not installed under {runtime.Root}/shared.");
            CopyTree(source, Path.Combine(dotnet.FullName, "shared", framework, runtime.Version));
        }
        File.Copy(Path.Combine(Assets, "dotnet-service", "Dockerfile"), Path.Combine(context.FullName, "Dockerfile"), overwrite: true);
        await BuildAsync(docker, context.FullName, tag, baseImage, [("SERVICE", project)], log);
        return tag;
    }

    private static async Task BuildAsync(DockerHost docker, string context, string tag, string baseImage, IEnumerable<(string Name, string Value)> buildArgs, Action<string> log)
    {
        var started = DateTime.UtcNow;
        List<string> arguments = ["build", "--network", "host", "--quiet", "--tag", tag, "--build-arg", "BASE_IMAGE=" + baseImage];
        foreach (var (name, value) in buildArgs) arguments.AddRange(["--build-arg", $"{name}={value}"]);
        arguments.Add(context);
        (await docker.DockerAsync(arguments, TimeSpan.FromMinutes(10))).EnsureSuccess();
        log($"built {tag} in {(DateTime.UtcNow - started).TotalSeconds:F1} s");
    }

    private static void CopyTree(string source, string destination)
    {
        Directory.CreateDirectory(destination);
        foreach (var directory in Directory.GetDirectories(source, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(Path.Combine(destination, Path.GetRelativePath(source, directory)));
        }
        foreach (var file in Directory.GetFiles(source, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(destination, Path.GetRelativePath(source, file));
            File.Copy(file, target, overwrite: true);
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(target, File.GetUnixFileMode(file));
        }
    }
}
