using AtSync.Core.Settings;
using AtSync.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;

namespace AtSync.Tests.Operations;

/// <summary>Secret settings read from <c>&lt;NAME&gt;_FILE</c> (AtSync.Core/Settings/SecretFiles.cs), by real service processes.</summary>
public sealed class SecretFilesTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("atsync-secrets-");

    public void Dispose() => _dir.Delete(recursive: true);

    private string WriteSecret(string name, string content)
    {
        var path = Path.Combine(_dir.FullName, name);
        File.WriteAllText(path, content);
        return path;
    }

    [Fact]
    public async Task The_queue_worker_starts_with_every_secret_given_only_as_a_file()
    {
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync();
        var settings = ServiceSettings.For(database, ServiceSettings.NewTokenKeysJson());
        // A confidential OAuth client (its key is a secret too).
        using var clientKey = AtSync.AtProto.OAuth.DpopKey.Generate();
        settings[OAuthClientConfiguration.PublicUrlName] = "http://127.0.0.1:9/atproto/";
        settings[OAuthClientConfiguration.ClientKeyName] = clientKey.ExportPrivateKey();
        foreach (var (name, _) in SecretFiles.Secrets)
        {
            // As `echo value > file` writes it: with a trailing newline, which is not part of the value.
            settings[name + SecretFiles.Suffix] = WriteSecret(name, settings[name] + "\n");
            settings[name] = null;
        }

        await using var worker = ServiceProcess.Start("AtSync.QueueWorker", settings);
        await worker.WaitForHealthyAsync(TimeSpan.FromSeconds(60));
        Assert.DoesNotContain(ServiceSettings.ForumAppPassword, worker.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_secret_given_both_inline_and_as_a_file_stops_the_service_with_one_line_naming_it()
    {
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync(withPhpbbSchema: false);
        var settings = ServiceSettings.For(database, ServiceSettings.NewTokenKeysJson());
        settings[SettingNames.ForumAppPassword + SecretFiles.Suffix] = WriteSecret("token", "SECRET-from-file");

        await using var worker = ServiceProcess.Start("AtSync.QueueWorker", settings);
        Assert.True(await worker.WaitForExitAsync(TimeSpan.FromSeconds(30)), worker.Output);
        Assert.Equal(ServiceRunner.InvalidSettingsExitCode, worker.ExitCode);
        var line = Assert.Single(worker.OutputLines);
        Assert.Equal("AtSync.QueueWorker cannot start: FORUM_APP_PASSWORD and FORUM_APP_PASSWORD_FILE are both set (use one).", line);
    }

    [Fact]
    public async Task A_file_that_cannot_be_read_or_is_empty_stops_the_service_without_its_path_or_content()
    {
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync(withPhpbbSchema: false);
        var settings = ServiceSettings.For(database, ServiceSettings.NewTokenKeysJson());
        settings[SettingNames.ConnectionString] = null;
        settings[SettingNames.ConnectionString + SecretFiles.Suffix] = Path.Combine(_dir.FullName, "missing");
        settings[SettingNames.TokenEncryptionKeys] = null;
        settings[SettingNames.TokenEncryptionKeys + SecretFiles.Suffix] = WriteSecret("empty", "\n");

        await using var worker = ServiceProcess.Start("AtSync.QueueWorker", settings);
        Assert.True(await worker.WaitForExitAsync(TimeSpan.FromSeconds(30)), worker.Output);
        Assert.Equal(ServiceRunner.InvalidSettingsExitCode, worker.ExitCode);
        var line = Assert.Single(worker.OutputLines);
        Assert.StartsWith("AtSync.QueueWorker cannot start: ", line, StringComparison.Ordinal);
        Assert.Contains("ConnectionStrings__phpbb_FILE names a file that cannot be read", line, StringComparison.Ordinal);
        Assert.Contains("TOKEN_ENCRYPTION_KEYS_FILE names an empty file", line, StringComparison.Ordinal);
        Assert.DoesNotContain(_dir.FullName, line, StringComparison.Ordinal);
    }

    [Fact]
    public void Reading_keeps_the_value_exactly_but_for_one_trailing_newline()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["TOKEN_ENCRYPTION_KEYS_FILE"] = WriteSecret("keys", "{\"v1\":\"x\"}\r\n"),
            ["ConnectionStrings:phpbb_FILE"] = WriteSecret("cs", "Server=a;Password= spaced \n\n"),
        }).Build();
        var (values, failures) = SecretFiles.Read(configuration);
        Assert.Empty(failures);
        Assert.Equal("{\"v1\":\"x\"}", values["TOKEN_ENCRYPTION_KEYS"]);
        Assert.Equal("Server=a;Password= spaced \n", values["ConnectionStrings:phpbb"]);
    }

    [Fact]
    public void An_empty_file_for_the_optional_client_key_leaves_it_unset_and_a_required_one_fails()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["OAUTH_CLIENT_KEY_FILE"] = WriteSecret("client-key", "\n"),
            ["TOKEN_ENCRYPTION_KEYS_FILE"] = WriteSecret("keys", "\n"),
        }).Build();
        var (values, failures) = SecretFiles.Read(configuration);
        Assert.False(values.ContainsKey("OAUTH_CLIENT_KEY"));
        Assert.Equal(["TOKEN_ENCRYPTION_KEYS_FILE names an empty file"], failures);
    }
}
