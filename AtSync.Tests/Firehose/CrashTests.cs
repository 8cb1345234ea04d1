using System.Net;
using AtSync.Core.Settings;
using AtSync.Firehose;
using AtSync.Firehose.Ingest;
using AtSync.Testing.Synthetic;
using AtSync.Tests.Infrastructure;

namespace AtSync.Tests.Firehose;

/// <summary>
/// The Firehose as a real process (<c>dotnet AtSync.Firehose.dll</c>) replaying a capture of thousands of events,
/// killed with SIGKILL at random points and restarted until it is done: the database must equal a clean single pass.
/// </summary>
public sealed class CrashTests
{
    private static readonly string BoardUri = $"at://{ServiceSettings.ForumDid}/net.vza.forum.board/3kboardgeneral";

    [Fact]
    public async Task Killed_at_random_points_and_restarted_the_service_loses_and_duplicates_nothing()
    {
        var server = await MariaDbServer.SharedAsync();
        using var factory = ForumFrameFactory.Create();
        var frames = SyntheticStream.Generate(factory, new SyntheticStreamOptions
        {
            Frames = 4000, ForumShare = 0.35, BoardUri = BoardUri, Authors = 60, Seed = 11,
        }).ToList();
        var lastSeq = frames[^1].Seq;
        // Signatures are verified as deployed: the authors' DID documents name the factory's key.
        await using var plc = await LoopbackPlc.StartAsync(factory.SigningKey.PublicKey);
        var capture = Path.Combine(Path.GetTempPath(), $"atsync-crash-{Guid.NewGuid():N}.bin.zst");
        await CaptureFileSource.WriteAsync(capture, frames.Select(f => (ReadOnlyMemory<byte>)f.Frame), compress: true);
        try
        {
            // A clean single pass, stopped gracefully.
            await using var clean = await server.CreateDatabaseAsync();
            await FirehoseHarness.PrepareForumAsync(clean, BoardUri);
            await using (var service = ServiceProcess.Start("AtSync.Firehose", Settings(clean, capture, plc.BaseUri)))
            {
                await WaitForCursorAsync(clean, service, lastSeq, TimeSpan.FromMinutes(4));
                service.Terminate();
                Assert.True(await service.WaitForExitAsync(TimeSpan.FromSeconds(30)), service.Output);
                Assert.Equal(0, service.ExitCode);
                // Every forum commit verified (warnings are logged at LOG_LEVEL=Warning).
                Assert.DoesNotContain("does not verify", service.Output, StringComparison.Ordinal);
                Assert.DoesNotContain("could not be checked", service.Output, StringComparison.Ordinal);
            }
            var expected = await DatabaseSnapshot.TakeAsync(clean);
            Assert.True(await clean.ScalarAsync<long>($"SELECT COUNT(*) FROM {clean.Tables.PhpbbPosts}") > 500);

            // The same capture, SIGKILLed at random points while it writes, restarted each time until done.
            await using var crashed = await server.CreateDatabaseAsync();
            await FirehoseHarness.PrepareForumAsync(crashed, BoardUri);
            var random = new Random(20261123);
            var kills = 0;
            var killedAt = new List<long>();
            for (var run = 0; run < 40; run++)
            {
                await using var service = ServiceProcess.Start("AtSync.Firehose", Settings(crashed, capture, plc.BaseUri));
                var before = await CursorAsync(crashed) ?? 0;
                if (before >= lastSeq) break;
                // Wait until this run has committed something (it is mid-stream), then kill it after a random while.
                var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
                while ((await CursorAsync(crashed) ?? 0) <= before && DateTime.UtcNow < deadline && !service.HasExited) await Task.Delay(20);
                await Task.Delay(random.Next(0, 400));
                var at = await CursorAsync(crashed) ?? 0;
                if (at >= lastSeq) break;
                service.KillHard();
                await service.WaitForExitAsync(TimeSpan.FromSeconds(10));
                kills++;
                killedAt.Add(at);
            }
            await using (var last = ServiceProcess.Start("AtSync.Firehose", Settings(crashed, capture, plc.BaseUri)))
            {
                await WaitForCursorAsync(crashed, last, lastSeq, TimeSpan.FromMinutes(4));
                last.Terminate();
                await last.WaitForExitAsync(TimeSpan.FromSeconds(30));
            }

            Assert.True(kills >= 3, $"only {kills} kills happened mid-stream (at cursors {string.Join(", ", killedAt)})");
            var actual = await DatabaseSnapshot.TakeAsync(crashed);
            Assert.Equal(expected.Length, actual.Length);
            Assert.Equal(expected, actual);
        }
        finally
        {
            File.Delete(capture);
        }
    }

    private static Dictionary<string, string?> Settings(TestDatabase database, string capture, Uri plcUrl)
    {
        var settings = ServiceSettings.For(database, ServiceSettings.NewTokenKeysJson());
        settings[SettingNames.PlcDirectoryUrl] = plcUrl.ToString();
        settings[SettingNames.ConnectionString] = new MySqlConnector.MySqlConnectionStringBuilder(database.ConnectionString) { AllowUserVariables = false }.ConnectionString;
        settings[FirehoseOptions.ReplayFileSetting] = capture;
        settings["Firehose__LabelsEnabled"] = "false";
        settings["Firehose__BatchSize"] = "200";
        // Not an isolation test: a cold process on a loaded machine must not park authors whose lookups are merely slow.
        settings["Firehose__KeyDeadline"] = "00:00:10";
        settings[SettingNames.LogLevel] = "Warning";
        return settings;
    }

    private static async Task<long?> CursorAsync(TestDatabase database)
    {
        await using var connection = await database.OpenAsync();
        await using var command = new MySqlConnector.MySqlCommand($"SELECT cursor_value FROM {database.Tables.Cursors} WHERE service = 'firehose'", connection);
        var value = await command.ExecuteScalarAsync();
        return value is null or DBNull ? null : Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task WaitForCursorAsync(TestDatabase database, ServiceProcess service, long seq, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if ((await CursorAsync(database) ?? 0) >= seq) return;
            if (service.HasExited) throw new InvalidOperationException($"the service exited with {service.ExitCode}:\n{service.Output}");
            await Task.Delay(100);
        }
        throw new TimeoutException($"cursor did not reach {seq}:\n{service.Output}");
    }
}
