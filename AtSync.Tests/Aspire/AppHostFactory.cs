using System.Security.Cryptography;
using Aspire.Hosting;
using Aspire.Hosting.Testing;

namespace AtSync.Tests.Aspire;

/// <summary>Builders of the real AppHost (<c>Projects.AtSync_AppHost</c>) for the model, publish and run tests.</summary>
public static class AppHostFactory
{
#if ATSYNC_FULL_STACK
    public static readonly bool HasFullStack = true;
#else
    public static readonly bool HasFullStack = false;
#endif

    /// <summary>A connection string for existing-forum mode where none is used (model and publish tests).</summary>
    public const string ModelConnectionString = "Server=db.example.com;Port=3306;User ID=atsync;Password=model-test-only;Database=phpbb";

    /// <summary>The AppHost in run mode (what <c>dotnet run --project AtSync.AppHost</c> builds), configured by <paramref name="settings"/>.</summary>
    public static Task<IDistributedApplicationTestingBuilder> RunModeAsync(IReadOnlyDictionary<string, string> settings, CancellationToken cancellationToken = default) =>
        DistributedApplicationTestingBuilder.CreateAsync<Projects.AtSync_AppHost>(Arguments(settings), cancellationToken);

    /// <summary>The AppHost as <c>aspire publish -o outputPath</c> runs it: the publish pipeline step only.</summary>
    public static Task<IDistributedApplicationTestingBuilder> PublishModeAsync(string outputPath, IReadOnlyDictionary<string, string>? settings = null, CancellationToken cancellationToken = default) =>
        DistributedApplicationTestingBuilder.CreateAsync<Projects.AtSync_AppHost>(
            ["--operation", "publish", "--step", "publish", "--output-path", outputPath, .. Arguments(settings ?? new Dictionary<string, string>())], cancellationToken);

    /// <summary>Existing-forum mode with every parameter that has no default (test-only, random secrets).</summary>
    public static Dictionary<string, string> ExistingForumSettings() => new()
    {
        ["ConnectionStrings:phpbb"] = ModelConnectionString,
        ["Parameters:forum-app-password"] = Secret(),
        ["Parameters:token-encryption-keys"] = $$"""{"v1":"{{Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))}}"}""",
        ["Parameters:forum-did"] = "did:plc:atsynctestforum0000000000",
        ["Parameters:forum-pds-url"] = "https://pds.example.com",
    };

    /// <summary>Configuration as the command line gives it (<c>--key=value</c>): the AppHost reads its mode before anything else.</summary>
    public static string[] Arguments(IReadOnlyDictionary<string, string> settings) => [.. settings.Select(s => $"--{s.Key}={s.Value}")];

    public static string Secret() => Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
}
