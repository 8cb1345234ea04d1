using AtSync.Tests.Infrastructure;

namespace AtSync.Tests.Aspire;

/// <summary>
/// <c>aspire publish</c> of the AppHost writes exactly the committed <c>docker-compose.generated.yml</c> and
/// <c>.env.example</c>: the committed deployment can never drift from the AppHost.
/// </summary>
public sealed class AppHostPublishTests
{
    [Fact]
    public async Task Publish_writes_the_committed_compose_file_and_env_example()
    {
        var output = Directory.CreateTempSubdirectory("atsync-publish-");
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            await using (var builder = await AppHostFactory.PublishModeAsync(output.FullName, timeout.Token))
            {
                await using var app = await builder.BuildAsync(timeout.Token);
                await app.RunAsync(timeout.Token);
            }

            var compose = Path.Combine(output.FullName, "docker-compose.yaml");
            var env = Path.Combine(output.FullName, ".env");
            Assert.True(File.Exists(compose), "aspire publish wrote no docker-compose.yaml");
            Assert.True(File.Exists(env), "aspire publish wrote no .env");

            AssertSameText(Path.Combine(RepositoryPaths.Root, "docker-compose.generated.yml"), compose);
            AssertSameText(Path.Combine(RepositoryPaths.Root, ".env.example"), env);
        }
        finally
        {
            output.Delete(recursive: true);
        }
    }

    private static void AssertSameText(string committedPath, string publishedPath)
    {
        var committed = File.ReadAllText(committedPath).ReplaceLineEndings("\n");
        var published = File.ReadAllText(publishedPath).ReplaceLineEndings("\n");
        // On a difference, say which line first differs and how to refresh the committed file.
        var committedLines = committed.Split('\n');
        var publishedLines = published.Split('\n');
        for (var i = 0; i < Math.Max(committedLines.Length, publishedLines.Length); i++)
        {
            var expected = i < committedLines.Length ? committedLines[i] : "(end of file)";
            var actual = i < publishedLines.Length ? publishedLines[i] : "(end of file)";
            Assert.True(expected == actual,
                $"{Path.GetFileName(committedPath)} differs from what aspire publish writes, at line {i + 1}:\n  committed: {expected}\n  published: {actual}\n" +
                "Refresh it: aspire publish -o <dir>, then copy docker-compose.yaml and .env over it (README: Deployment).");
        }
    }
}
