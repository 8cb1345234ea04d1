using AtSync.Tests.Deployment.Live;
using AtSync.Tests.Infrastructure;

namespace AtSync.Tests.Deployment;

/// <summary>
/// The phpBB image's entrypoint (<c>docker/phpbb/entrypoint.sh</c> with <c>file-env.sh</c>) run by <c>/bin/sh</c> as
/// the container runs it, with a stand-in <c>php</c> on PATH that records what the helper calls see: secrets come from
/// <c>&lt;NAME&gt;_FILE</c> as in the official database images, a misconfiguration stops it with one line naming the
/// setting (exit 2, no value), and Apache (the command it execs) gets no secret in its environment.
/// </summary>
public sealed class PhpbbEntrypointTests : IDisposable
{
    private readonly DirectoryInfo _work = Directory.CreateTempSubdirectory("atsync-phpbb-entrypoint-");

    private string Bin => Path.Combine(_work.FullName, "bin");
    private string Lib => Path.Combine(_work.FullName, "lib");
    private string CallLog => Path.Combine(_work.FullName, "php-calls.log");

    public PhpbbEntrypointTests()
    {
        Directory.CreateDirectory(Bin);
        Directory.CreateDirectory(Lib);
        Directory.CreateDirectory(Path.Combine(_work.FullName, "www", "install"));
        File.Copy(Path.Combine(RepositoryPaths.Root, "docker", "phpbb", "file-env.sh"), Path.Combine(Lib, "file-env.sh"));
        // The helper's verbs answer as for an installed board; each call records the secrets it was given.
        var php = Path.Combine(Bin, "php");
        File.WriteAllText(php, $$"""
            #!/bin/sh
            printf '%s db=[%s] admin=[%s] db_file=[%s]\n' "$2" "${PHPBB_DB_PASSWORD-unset}" "${PHPBB_ADMIN_PASSWORD-unset}" "${PHPBB_DB_PASSWORD_FILE-unset}" >> '{{CallLog}}'
            exit 0

            """);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(php, (UnixFileMode)0b111_101_101);
    }

    private string Secret(string name, string content)
    {
        var path = Path.Combine(_work.FullName, name);
        File.WriteAllText(path, content);
        return path;
    }

    private async Task<CommandResult> RunAsync(Dictionary<string, string?> environment)
    {
        environment["PATH"] = Bin + ":/usr/bin:/bin";
        environment["ATSYNC_LIB"] = Lib;
        environment["ATSYNC_PHPBB_ROOT"] = Path.Combine(_work.FullName, "www");
        foreach (var name in new[] { "PHPBB_DB_PASSWORD", "PHPBB_ADMIN_PASSWORD", "PHPBB_DB_PASSWORD_FILE", "PHPBB_ADMIN_PASSWORD_FILE" })
        {
            environment.TryAdd(name, null);
        }
        // The command the entrypoint hands over to (Apache in the image): what environment does it get?
        return await CommandRunner.RunAsync("/bin/sh",
            [Path.Combine(RepositoryPaths.Root, "docker", "phpbb", "entrypoint.sh"), "sh", "-c",
             "echo \"command db=[${PHPBB_DB_PASSWORD-unset}] admin=[${PHPBB_ADMIN_PASSWORD-unset}] db_file=[${PHPBB_DB_PASSWORD_FILE-unset}]\""],
            environment, TimeSpan.FromSeconds(30));
    }

    private string[] Calls() => File.Exists(CallLog) ? File.ReadAllLines(CallLog) : [];

    [Fact]
    public async Task Secrets_are_read_from_their_files_and_leave_the_environment_before_the_command()
    {
        var result = await RunAsync(new()
        {
            // One trailing newline (as `echo` or an editor writes) is dropped, as the services do.
            ["PHPBB_DB_PASSWORD_FILE"] = Secret("db", "db-secret-from-file\n"),
            ["PHPBB_ADMIN_PASSWORD_FILE"] = Secret("admin", "admin secret with spaces"),
        });

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Equal(
            ["wait-db db=[db-secret-from-file] admin=[admin secret with spaces] db_file=[unset]",
             "installed db=[db-secret-from-file] admin=[admin secret with spaces] db_file=[unset]",
             "write-config db=[db-secret-from-file] admin=[admin secret with spaces] db_file=[unset]"],
            Calls());
        Assert.Contains("command db=[unset] admin=[unset] db_file=[unset]", result.StandardOutput, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_work.FullName, "www", "install")), "the installer folder is left in the web root");
    }

    [Fact]
    public async Task Inline_values_still_work_without_files()
    {
        var result = await RunAsync(new() { ["PHPBB_DB_PASSWORD"] = "inline-db", ["PHPBB_ADMIN_PASSWORD"] = "inline-admin" });

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.All(Calls(), call => Assert.Contains("db=[inline-db] admin=[inline-admin]", call, StringComparison.Ordinal));
        Assert.Contains("command db=[unset] admin=[unset]", result.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Both_a_value_and_a_file_stop_it_with_one_line_naming_the_setting()
    {
        var result = await RunAsync(new() { ["PHPBB_DB_PASSWORD"] = "inline-db", ["PHPBB_DB_PASSWORD_FILE"] = Secret("db", "from-file") });

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("atsync-phpbb: both PHPBB_DB_PASSWORD and PHPBB_DB_PASSWORD_FILE are set; set only one", result.StandardError.Trim());
        Assert.Empty(Calls());
        Assert.DoesNotContain("inline-db", result.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("from-file", result.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("missing")]
    [InlineData("directory")]
    [InlineData("empty")]
    public async Task A_file_that_cannot_give_a_secret_stops_it_with_one_line(string kind)
    {
        var path = kind switch
        {
            "missing" => Path.Combine(_work.FullName, "no-such-secret"),
            "directory" => Directory.CreateDirectory(Path.Combine(_work.FullName, "a-directory")).FullName,
            _ => Secret("empty", "\n"),
        };
        var result = await RunAsync(new() { ["PHPBB_DB_PASSWORD"] = "inline-db", ["PHPBB_ADMIN_PASSWORD_FILE"] = path });

        Assert.Equal(2, result.ExitCode);
        var expected = kind == "empty"
            ? "atsync-phpbb: PHPBB_ADMIN_PASSWORD_FILE names an empty file"
            : "atsync-phpbb: PHPBB_ADMIN_PASSWORD_FILE names a file that cannot be read";
        Assert.Equal(expected, result.StandardError.Trim());
        Assert.Empty(Calls());
        Assert.DoesNotContain("inline-db", result.Output, StringComparison.Ordinal);
    }

    public void Dispose() => _work.Delete(recursive: true);
}
