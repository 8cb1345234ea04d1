using System.Diagnostics;
using System.Text.RegularExpressions;
using AtSync.Core.Settings;
using AtSync.Firehose;
using AtSync.Testing;
using AtSync.Testing.Synthetic;
using AtSync.Tests.Firehose;
using AtSync.Tests.Infrastructure;
using MySqlConnector;
using Xunit.Abstractions;

namespace AtSync.Tests.Operations;

/// <summary>
/// README's backup and restore, with MariaDB's own tools: a <c>--single-transaction</c> dump taken while the Firehose
/// runs and writes, restored into a fresh server; the Firehose resumes there from the restored cursor, and the result
/// equals the database that was never interrupted: nothing lost, nothing applied twice.
/// </summary>
public sealed partial class BackupRestoreTests(ITestOutputHelper output)
{
    private static readonly string BoardUri = $"at://{ServiceSettings.ForumDid}/net.vza.forum.board/3kboardgeneral";

    [Fact]
    public async Task A_dump_taken_while_the_firehose_writes_restores_into_a_fresh_server_that_resumes_from_its_cursor()
    {
        var server = await MariaDbServer.SharedAsync();
        await using var live = await server.CreateDatabaseAsync();
        await FirehoseHarness.PrepareForumAsync(live, BoardUri);
        using var factory = ForumFrameFactory.Create();
        var frames = SyntheticStream.Generate(factory, new SyntheticStreamOptions { Frames = 3000, ForumShare = 0.3, BoardUri = BoardUri, Authors = 40, Seed = 17 }).ToList();
        var half = frames.Count / 2;
        await using var plc = await LoopbackPlc.StartAsync(factory.SigningKey.PublicKey);
        await using var relay = await LoopbackRelay.StartAsync(FirehoseStreams.SubscribeReposPath);
        relay.Publish(frames.Take(half));
        var dump = Path.Combine(Path.GetTempPath(), $"atsync-backup-{Guid.NewGuid():N}.sql");
        try
        {
            string restoredCounts, liveCounts;
            long dumpedCursor;
            await using (var firehose = ServiceProcess.Start("AtSync.Firehose", Settings(live, relay, plc)))
            {
                await WaitForCursorAsync(live, firehose, frames[half - 1].Seq);
                // The rest of the stream arrives in small pieces over a few seconds: the Firehose is writing batches while the dump runs.
                var publishing = Task.Run(async () =>
                {
                    foreach (var chunk in frames.Skip(half).Chunk(50))
                    {
                        relay.Publish(chunk);
                        await Task.Delay(150);
                    }
                });
                await WaitForCursorAsync(live, firehose, frames[half + 50].Seq);
                await RunToolAsync(server, "mariadb-dump", ["--single-transaction", "--triggers", "--routines", "--hex-blob", "--default-character-set=utf8mb4", live.Name], stdoutFile: dump);
                await publishing;
                await WaitForCursorAsync(live, firehose, frames[^1].Seq);
                firehose.Terminate();
                Assert.True(await firehose.WaitForExitAsync(TimeSpan.FromSeconds(30)));
            }
            var expected = await DatabaseSnapshot.TakeAsync(live);
            liveCounts = await CountsAsync(live);

            // A fresh server (its own accounts: the dump's trigger DEFINERs are dropped, as README says for that case).
            await using var fresh = await MariaDbServer.StartDedicatedAsync();
            await using var restored = await fresh.CreateDatabaseAsync(withPhpbbSchema: false);
            var sql = DefinerClause().Replace(await File.ReadAllTextAsync(dump), "");
            await File.WriteAllTextAsync(dump, sql);
            await RunToolAsync(fresh, "mariadb", [restored.Name], stdinFile: dump);
            dumpedCursor = await restored.ScalarAsync<long>($"SELECT cursor_value FROM {restored.Tables.Cursors} WHERE service = 'firehose'");
            restoredCounts = await CountsAsync(restored);
            Assert.InRange(dumpedCursor, frames[half + 50].Seq, frames[^1].Seq - 1);
            Assert.NotEqual(liveCounts, restoredCounts);
            output.WriteLine($"dumped at cursor {dumpedCursor} of {frames[^1].Seq}");
            output.WriteLine($"restored: {restoredCounts}");
            output.WriteLine($"live end: {liveCounts}");

            await using (var resumed = ServiceProcess.Start("AtSync.Firehose", Settings(restored, relay, plc)))
            {
                await WaitForCursorAsync(restored, resumed, frames[^1].Seq);
                resumed.Terminate();
                Assert.True(await resumed.WaitForExitAsync(TimeSpan.FromSeconds(30)));
            }
            // The relay was asked to resume exactly after the restored cursor.
            Assert.Equal(dumpedCursor.ToString(), relay.Cursors[^1]);
            Assert.Equal(liveCounts, await CountsAsync(restored));
            Assert.Equal(expected, await DatabaseSnapshot.TakeAsync(restored));
        }
        finally
        {
            File.Delete(dump);
        }
    }

    private static Dictionary<string, string?> Settings(TestDatabase database, LoopbackRelay relay, LoopbackPlc plc)
    {
        var settings = ServiceSettings.For(database, ServiceSettings.NewTokenKeysJson());
        settings[SettingNames.RelayUrl] = relay.Url.ToString();
        settings[SettingNames.PlcDirectoryUrl] = plc.BaseUri.ToString();
        settings["Firehose__LabelsEnabled"] = "false";
        settings["Firehose__BatchSize"] = "50";
        settings[SettingNames.LogLevel] = "Warning";
        return settings;
    }

    /// <summary>Row counts of the tables a backup must carry.</summary>
    private static async Task<string> CountsAsync(TestDatabase database)
    {
        var t = database.Tables;
        var parts = new List<string>();
        foreach (var table in new[] { t.PhpbbUsers, t.PhpbbTopics, t.PhpbbPosts, t.Posts, t.RecordRevisions, t.ParkedPosts, t.Accounts })
        {
            parts.Add($"{table[database.Prefix.Length..]}={await database.ScalarAsync<long>($"SELECT COUNT(*) FROM {table}")}");
        }
        return string.Join(' ', parts);
    }

    private static async Task WaitForCursorAsync(TestDatabase database, ServiceProcess service, long seq)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        while (await database.ScalarAsync<long>($"SELECT COALESCE(MAX(cursor_value), 0) FROM {database.Tables.Cursors} WHERE service = 'firehose'") < seq)
        {
            if (service.HasExited || DateTime.UtcNow > deadline) throw new TimeoutException($"cursor did not reach {seq}:\n{service.Output}");
            await Task.Delay(20);
        }
    }

    private static async Task RunToolAsync(MariaDbServer server, string tool, string[] args, string? stdoutFile = null, string? stdinFile = null)
    {
        var admin = new MySqlConnectionStringBuilder(server.AdminConnectionString);
        var start = new ProcessStartInfo(tool)
        {
            RedirectStandardOutput = stdoutFile is not null, RedirectStandardError = true, RedirectStandardInput = stdinFile is not null, UseShellExecute = false,
        };
        foreach (var arg in new[] { "--no-defaults", $"--host={admin.Server}", $"--port={admin.Port}", $"--user={admin.UserID}" }.Concat(args)) start.ArgumentList.Add(arg);
        start.Environment["MYSQL_PWD"] = admin.Password;
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        Task copy = Task.CompletedTask;
        if (stdoutFile is not null)
        {
            copy = Task.Run(async () =>
            {
                await using var file = File.Create(stdoutFile);
                await process.StandardOutput.BaseStream.CopyToAsync(file);
            });
        }
        if (stdinFile is not null)
        {
            await using (var input = File.OpenRead(stdinFile)) await input.CopyToAsync(process.StandardInput.BaseStream);
            process.StandardInput.Close();
        }
        await process.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromMinutes(3)).Token);
        await copy;
        Assert.True(process.ExitCode == 0, $"{tool} exited {process.ExitCode}: {await stderr}");
    }

    [GeneratedRegex(@"DEFINER=`[^`]*`@`[^`]*`")]
    private static partial Regex DefinerClause();
}
