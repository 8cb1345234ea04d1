using System.Security.Cryptography;
using Aspire.Hosting;
using Aspire.Hosting.Testing;

namespace AtSync.Tests.Aspire;

/// <summary>Builders of the real AppHost (<c>Projects.AtSync_AppHost</c>) for the model, publish and run tests.</summary>
internal static class AppHostFactory
{
    public const string RunSkipReason = "needs a container runtime (docker info failed or docker is not installed)";

    /// <summary>The AppHost in run mode (what <c>dotnet run --project AtSync.AppHost</c> builds).</summary>
    public static Task<IDistributedApplicationTestingBuilder> RunModeAsync(CancellationToken cancellationToken = default) =>
        DistributedApplicationTestingBuilder.CreateAsync<Projects.AtSync_AppHost>([], cancellationToken);

    /// <summary>The AppHost as <c>aspire publish -o outputPath</c> runs it: the publish pipeline step only.</summary>
    public static Task<IDistributedApplicationTestingBuilder> PublishModeAsync(string outputPath, CancellationToken cancellationToken = default) =>
        DistributedApplicationTestingBuilder.CreateAsync<Projects.AtSync_AppHost>(
            ["--operation", "publish", "--step", "publish", "--output-path", outputPath], cancellationToken);

    /// <summary>Values for every parameter, shaped as the services validate them (test-only, random secrets).</summary>
    public static Dictionary<string, string> ParameterValues() => new()
    {
        ["mysql-root-password"] = Secret(),
        ["mysql-password"] = Secret(),
        ["phpbb-admin-password"] = Secret(),
        ["forum-pds-access-token"] = Secret(),
        ["token-encryption-keys"] = $$"""{"v1":"{{Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))}}"}""",
        ["forum-did"] = "did:plc:atsynctestforum0000000000",
        ["forum-pds-url"] = "https://pds.example.com",
    };

    public static void SetParameters(IDistributedApplicationBuilder builder, IReadOnlyDictionary<string, string> values)
    {
        foreach (var (name, value) in values)
        {
            builder.Configuration[$"Parameters:{name}"] = value;
        }
    }

    private static string Secret() => Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
}
