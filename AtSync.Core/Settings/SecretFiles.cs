using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace AtSync.Core.Settings;

/// <summary>
/// Every secret setting can also be given as a file: <c>&lt;NAME&gt;_FILE</c> holds the path of a file whose content is
/// the value (the convention of the official database images, and what Docker secrets mount under <c>/run/secrets/</c>).
/// One trailing newline is removed. Setting both <c>NAME</c> and <c>NAME_FILE</c>, or naming a file that cannot be
/// read, stops the service at start with one line naming the setting (never the path's content).
/// </summary>
public static class SecretFiles
{
    public const string Suffix = "_FILE";

    /// <summary>The secret settings as environment names and their configuration keys.</summary>
    public static readonly IReadOnlyList<(string Name, string Key)> Secrets =
    [
        (SettingNames.ConnectionString, "ConnectionStrings:" + SettingNames.ConnectionStringName),
        (SettingNames.ForumAppPassword, SettingNames.ForumAppPassword),
        (SettingNames.TokenEncryptionKeys, SettingNames.TokenEncryptionKeys),
        (OAuthClientConfiguration.ClientKeyName, OAuthClientConfiguration.ClientKeyName),
    ];

    /// <summary>Secrets that may be left out: an empty file means "not set" (a public OAuth client has no key).</summary>
    public static readonly IReadOnlySet<string> Optional = new HashSet<string>(StringComparer.Ordinal) { OAuthClientConfiguration.ClientKeyName };

    private const string AppliedMarker = "AtSync.SecretFiles.Applied";

    /// <summary>Reads every <c>NAME_FILE</c> present into <c>NAME</c>. Idempotent; called by each settings registration.</summary>
    public static IHostApplicationBuilder AddSecretFileSettings(this IHostApplicationBuilder builder)
    {
        if (builder.Properties.ContainsKey(AppliedMarker)) return builder;
        builder.Properties[AppliedMarker] = true;

        var (values, failures) = Read(builder.Configuration);
        if (values.Count > 0) builder.Configuration.AddInMemoryCollection(values);
        if (failures.Count > 0)
        {
            builder.Services.AddOptions<SecretFileSetting>().Validate(_ => false, string.Join("; ", failures)).ValidateOnStart();
        }
        return builder;
    }

    /// <summary>The values read from files, and one failure line per setting whose file could not be used.</summary>
    public static (Dictionary<string, string?> Values, List<string> Failures) Read(IConfiguration configuration)
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        var failures = new List<string>();
        foreach (var (name, key) in Secrets)
        {
            var path = configuration[key + Suffix];
            if (string.IsNullOrWhiteSpace(path)) continue;
            if (!string.IsNullOrEmpty(configuration[key]))
            {
                failures.Add($"{name} and {name}{Suffix} are both set (use one)");
                continue;
            }
            try
            {
                var content = File.ReadAllText(path);
                if (content.EndsWith("\r\n", StringComparison.Ordinal)) content = content[..^2];
                else if (content.EndsWith('\n')) content = content[..^1];
                if (string.IsNullOrWhiteSpace(content))
                {
                    if (Optional.Contains(name)) continue;
                    failures.Add($"{name}{Suffix} names an empty file");
                    continue;
                }
                values[key] = content;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                failures.Add($"{name}{Suffix} names a file that cannot be read");
            }
        }
        return (values, failures);
    }

    /// <summary>Marker for the secret files' start-up validation.</summary>
    public sealed class SecretFileSetting;
}
