using System.Diagnostics;
using System.Text.Json;
using AtSync.Core.Settings;
using AtSync.Tests.Infrastructure;
using YamlDotNet.RepresentationModel;

namespace AtSync.Tests.Operations;

/// <summary>
/// docker-compose.secrets.yml over the generated compose file: every secret the services and MySQL take inline is removed
/// from their environment and given as a read-only Docker secret through <c>&lt;NAME&gt;_FILE</c>. Checked on the YAML
/// itself, and on the merged model that <c>docker compose config</c> computes (no engine needed for that).
/// </summary>
public sealed class ComposeSecretsTests
{
    private static string OverrideFile => Path.Combine(RepositoryPaths.Root, "docker-compose.secrets.yml");
    private static string GeneratedFile => Path.Combine(RepositoryPaths.Root, "docker-compose.generated.yml");

    /// <summary>Service → the secret settings it takes inline in the generated file.</summary>
    private static readonly Dictionary<string, string[]> Expected = new()
    {
        ["firehose"] = [SettingNames.ConnectionString],
        ["queueworker"] = [SettingNames.ConnectionString, SettingNames.ForumAppPassword, SettingNames.TokenEncryptionKeys, OAuthClientConfiguration.ClientKeyName],
        ["linking"] = [SettingNames.ConnectionString, SettingNames.TokenEncryptionKeys, OAuthClientConfiguration.ClientKeyName],
        ["mysql"] = ["MYSQL_ROOT_PASSWORD", "MYSQL_PASSWORD"],
        ["forum"] = ["PHPBB_DB_PASSWORD", "PHPBB_ADMIN_PASSWORD"],
    };

    /// <summary>Images whose own entrypoints read <c>_FILE</c> (not AtSync.Core's SecretFiles).</summary>
    private static readonly HashSet<string> OwnEntrypoints = ["mysql", "forum"];

    [Fact]
    public void The_override_resets_each_inline_secret_and_points_its_FILE_setting_at_a_declared_secret()
    {
        var generated = OpsFiles.LoadYaml(GeneratedFile);
        var overrides = OpsFiles.LoadYaml(OverrideFile);
        var declared = ((YamlMappingNode)overrides["secrets"]).Children
            .ToDictionary(c => c.Key.ToString(), c => ((YamlMappingNode)c.Value)["file"].ToString());
        Assert.All(declared.Values, file => Assert.StartsWith("./secrets/", file, StringComparison.Ordinal));

        foreach (var (service, names) in Expected)
        {
            var inline = (YamlMappingNode)((YamlMappingNode)((YamlMappingNode)generated["services"])[service])["environment"];
            var node = (YamlMappingNode)((YamlMappingNode)overrides["services"])[service];
            var environment = (YamlMappingNode)node["environment"];
            var secrets = ((YamlSequenceNode)node["secrets"]).Select(s => s.ToString()).ToList();
            foreach (var name in names)
            {
                Assert.True(inline.Children.ContainsKey(new YamlScalarNode(name)), $"{service}: the generated file no longer sets {name}");
                var reset = environment[name];
                Assert.Equal("!reset", reset.Tag.Value);
                var target = environment[name + SecretFiles.Suffix].ToString();
                Assert.StartsWith("/run/secrets/", target, StringComparison.Ordinal);
                var secret = target["/run/secrets/".Length..];
                Assert.Contains(secret, secrets);
                Assert.True(declared.ContainsKey(secret), $"{service}: secret {secret} is not declared");
            }
            // Every secret setting AtSync's services have is covered for them.
            if (!OwnEntrypoints.Contains(service))
            {
                var inlineSecrets = SecretFiles.Secrets.Select(x => x.Name).Where(n => inline.Children.ContainsKey(new YamlScalarNode(n)));
                Assert.Equal(inlineSecrets.Order(), names.Order());
            }
        }
    }

    [ComposeCliFact]
    public async Task Docker_compose_merges_the_override_into_an_environment_without_secret_values()
    {
        var dir = Directory.CreateTempSubdirectory("atsync-compose-");
        try
        {
            File.Copy(GeneratedFile, Path.Combine(dir.FullName, "docker-compose.generated.yml"));
            File.Copy(OverrideFile, Path.Combine(dir.FullName, "docker-compose.secrets.yml"));
            // Values only an inline secret could leak: if any appears in the merged model, the override missed it.
            var env = new Dictionary<string, string>
            {
                ["FIREHOSE_IMAGE"] = "atsync/firehose:1.0.0", ["QUEUEWORKER_IMAGE"] = "atsync/queueworker:1.0.0", ["LINKING_IMAGE"] = "atsync/linking:1.0.0",
                ["LINKING_PUBLIC_URL"] = "https://forum.example.com/atproto/", ["OAUTH_CLIENT_KEY"] = "SECRET-client-key",
                ["MYSQL_PASSWORD"] = "SECRET-mysql-pw", ["MYSQL_ROOT_PASSWORD"] = "SECRET-root-pw",
                ["FORUM_APP_PASSWORD"] = "SECRET-forum-token", ["TOKEN_ENCRYPTION_KEYS"] = "SECRET-keys",
                ["PHPBB_ADMIN_PASSWORD"] = "SECRET-admin-pw", ["FORUM_DID"] = "did:plc:x", ["FORUM_PDS_URL"] = "https://pds.example.com",
            };
            var (code, output) = await ComposeConfigAsync(dir.FullName, env);
            Assert.True(code == 0, output);
            using var model = JsonDocument.Parse(output);
            var services = model.RootElement.GetProperty("services");
            foreach (var (service, names) in Expected)
            {
                var s = services.GetProperty(service);
                var text = s.GetProperty("environment").GetRawText();
                Assert.DoesNotContain("SECRET-", text, StringComparison.Ordinal);
                foreach (var name in names) Assert.False(s.GetProperty("environment").TryGetProperty(name, out _), $"{service} still sets {name}");
                var targets = s.GetProperty("secrets").EnumerateArray().Select(x => x.GetProperty("target").GetString()).ToList();
                foreach (var name in names)
                {
                    Assert.Contains(s.GetProperty("environment").GetProperty(name + SecretFiles.Suffix).GetString(), targets);
                }
            }
            foreach (var secret in model.RootElement.GetProperty("secrets").EnumerateObject())
            {
                Assert.Equal(Path.Combine(dir.FullName, "secrets", secret.Name), secret.Value.GetProperty("file").GetString());
            }
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static async Task<(int, string)> ComposeConfigAsync(string directory, Dictionary<string, string> env)
    {
        var start = new ProcessStartInfo("docker") { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "compose", "-f", "docker-compose.generated.yml", "-f", "docker-compose.secrets.yml", "config", "--format", "json" })
        {
            start.ArgumentList.Add(arg);
        }
        foreach (var (k, v) in env) start.Environment[k] = v;
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new InvalidOperationException("the docker CLI with its compose plugin is needed");
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
            return (process.ExitCode, process.ExitCode == 0 ? await stdout : await stderr);
        }
    }
}

/// <summary>A fact that needs the Docker CLI's compose plugin, 2.24 or later (<c>!reset</c>): skipped, with the reason, where it is missing.</summary>
public sealed class ComposeCliFactAttribute : FactAttribute
{
    private static readonly Lazy<string?> Unavailable = new(Probe);

    public ComposeCliFactAttribute()
    {
        if (Unavailable.Value is { } reason) Skip = $"docker compose 2.24+ is not available: {reason}";
    }

    private static string? Probe()
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo("docker", "compose version --short")
            {
                RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            });
            if (process is null) return "docker could not be started";
            var stdout = process.StandardOutput.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromSeconds(20)))
            {
                process.Kill(entireProcessTree: true);
                return "docker compose version did not answer";
            }
            if (process.ExitCode != 0) return "no compose plugin";
            var text = stdout.Result.Trim().TrimStart('v');
            var parts = text.Split('.', '-');
            return parts.Length >= 2 && int.TryParse(parts[0], out var major) && int.TryParse(parts[1], out var minor) && (major > 2 || (major == 2 && minor >= 24))
                ? null
                : $"version {text}";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "docker is not installed";
        }
    }
}
