using System.Diagnostics;
using AtSync.Core.Settings;
using AtSync.Firehose;
using AtSync.Testing;
using AtSync.Testing.Synthetic;
using AtSync.Tests.Infrastructure;
using MySqlConnector;

namespace AtSync.Tests.Firehose;

/// <summary>
/// SIGTERM while the relay streams faster than the Firehose can apply (a full channel): the read loop stops at the next
/// frame, flushes its batch with the cursor and exits, instead of applying the buffered frames first (18–20 s before).
/// </summary>
public sealed class StopLatencyTests
{
    private static readonly string BoardUri = $"at://{ServiceSettings.ForumDid}/net.vza.forum.board/3kboardgeneral";

    [Fact]
    public async Task Stopped_under_a_live_stream_the_service_exits_promptly_with_its_cursor_saved()
    {
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync();
        await FirehoseHarness.PrepareForumAsync(database, BoardUri);
        using var factory = ForumFrameFactory.Create();
        var frames = SyntheticStream.Generate(factory, new SyntheticStreamOptions { Frames = 6000, ForumShare = 0.6, BoardUri = BoardUri, Authors = 40, Seed = 5 }).ToList();
        await using var plc = await LoopbackPlc.StartAsync(factory.SigningKey.PublicKey);
        await using var relay = await LoopbackRelay.StartAsync(FirehoseStreams.SubscribeReposPath);
        relay.Publish(frames);

        var settings = ServiceSettings.For(database, ServiceSettings.NewTokenKeysJson());
        settings[SettingNames.RelayUrl] = relay.Url.ToString();
        settings[SettingNames.PlcDirectoryUrl] = plc.BaseUri.ToString();
        settings[SettingNames.ConnectionString] = new MySqlConnectionStringBuilder(database.ConnectionString) { AllowUserVariables = false }.ConnectionString;
        settings["Firehose__LabelsEnabled"] = "false";
        settings[SettingNames.LogLevel] = "Information";
        await using var service = ServiceProcess.Start("AtSync.Firehose", settings);

        // Mid-stream: some batches committed, thousands of frames still to come.
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (await CursorAsync(database) < 300 && DateTime.UtcNow < deadline && !service.HasExited) await Task.Delay(50);
        var before = await CursorAsync(database);
        Assert.InRange(before, 300, frames[^1].Seq - 1000);

        var stopping = Stopwatch.StartNew();
        service.Terminate();
        Assert.True(await service.WaitForExitAsync(TimeSpan.FromSeconds(30)), service.Output);
        var stopped = stopping.Elapsed;
        Assert.Equal(0, service.ExitCode);

        var saved = await CursorAsync(database);
        Assert.True(saved >= before, $"cursor went back from {before} to {saved}");
        Assert.True(saved < frames[^1].Seq, "the whole stream was applied before stopping");
        Assert.True(stopped < TimeSpan.FromSeconds(8), $"stopping took {stopped.TotalSeconds:0.0} s");
    }

    private static async Task<long> CursorAsync(TestDatabase database)
    {
        await using var connection = await database.OpenAsync();
        await using var command = new MySqlCommand($"SELECT cursor_value FROM {database.Tables.Cursors} WHERE service = 'firehose'", connection);
        var value = await command.ExecuteScalarAsync();
        return value is null or DBNull ? 0 : Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture);
    }
}
