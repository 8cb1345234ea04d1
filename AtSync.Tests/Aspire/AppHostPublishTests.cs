using AtSync.Tests.Infrastructure;

namespace AtSync.Tests.Aspire;

/// <summary>
/// <c>aspire publish</c> of the AppHost writes exactly the committed <c>docker-compose.generated.yml</c> and
/// <c>.env.example</c> (full stack), and in existing-forum mode a compose file with the two services and the dashboard
/// only. Both need Aspire.Hosting.Docker: skipped with that reason where the AppHost is built without the full stack
/// (the Deployment tests check the committed files on every run).
/// </summary>
public sealed class AppHostPublishTests
{
    [FullStackFact]
    public async Task Publish_writes_the_committed_compose_file_and_env_example()
    {
        var output = Directory.CreateTempSubdirectory("atsync-publish-");
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            await using (var builder = await AppHostFactory.PublishModeAsync(output.FullName, cancellationToken: timeout.Token))
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

    [FullStackFact]
    public async Task Existing_forum_publish_has_the_two_services_and_the_dashboard_only()
    {
        var output = Directory.CreateTempSubdirectory("atsync-publish-existing-");
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            await using (var builder = await AppHostFactory.PublishModeAsync(output.FullName, AppHostFactory.ExistingForumSettings(), timeout.Token))
            {
                await using var app = await builder.BuildAsync(timeout.Token);
                await app.RunAsync(timeout.Token);
            }

            var compose = Deployment.ComposeFile.Parse(await File.ReadAllTextAsync(Path.Combine(output.FullName, "docker-compose.yaml")));
            Assert.Equal(["compose-dashboard", "firehose", "queueworker"], compose.Services.Select(s => s.Name).Order(StringComparer.Ordinal));
            var env = await File.ReadAllTextAsync(Path.Combine(output.FullName, ".env"));
            // The existing database's connection string is a secret variable of .env, never a value in the compose file.
            Assert.Contains("\nPHPBB=", "\n" + env, StringComparison.Ordinal);
            Assert.DoesNotContain(AppHostFactory.ModelConnectionString, await File.ReadAllTextAsync(Path.Combine(output.FullName, "docker-compose.yaml")), StringComparison.Ordinal);
            Assert.DoesNotContain("MYSQL_PASSWORD", env, StringComparison.Ordinal);
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
                "Refresh it: aspire publish --apphost AtSync.AppHost/AtSync.AppHost.csproj -o <dir>, then copy docker-compose.yaml and .env over it (README: Aspire).");
        }
    }
}
