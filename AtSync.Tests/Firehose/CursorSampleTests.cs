using AtSync.Firehose.Apply;
using AtSync.Firehose.Events;
using AtSync.Tests.Infrastructure;
using MySqlConnector;

namespace AtSync.Tests.Firehose;

/// <summary>
/// The Firehose's cursor samples (migration 700), written by the apply stage with each batch's cursor: one per stream
/// and minute holding the first cursor committed in it, older than the retention removed, the cursor itself unchanged.
/// </summary>
public sealed class CursorSampleTests
{
    private static readonly long Minute = new DateTimeOffset(2026, 11, 23, 9, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds();

    private static async Task<List<(string Service, long At, long Cursor)>> SamplesAsync(TestDatabase database)
    {
        await using var connection = await database.OpenAsync();
        await using var command = new MySqlCommand($"SELECT service, sampled_at, cursor_value FROM {database.Tables.CursorSamples} ORDER BY service, sampled_at", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<(string, long, long)>();
        while (await reader.ReadAsync()) rows.Add((reader.GetString(0), Convert.ToInt64(reader.GetValue(1)), Convert.ToInt64(reader.GetValue(2))));
        return rows;
    }

    [Fact]
    public async Task Each_minute_keeps_its_first_committed_cursor_and_old_samples_are_removed()
    {
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync();
        await FirehoseHarness.PrepareForumAsync(database, "at://did:plc:forum/net.vza.forum.board/b");
        await using var dataSource = new MySqlDataSource(database.ConnectionString);
        var writer = new BatchWriter(dataSource, database.Tables, new FirehoseIdentity("did:plc:forum", "did:plc:labeler"));
        var none = new Dictionary<string, string?>();
        Task Commit(string service, long cursor, long now) => writer.ApplyAsync(service, Array.Empty<StreamEvent>(), none, cursor, now, CancellationToken.None);

        await Commit("firehose", 1000, Minute + 5);
        await Commit("firehose", 1500, Minute + 59); // same minute: the sample stays at the minute's first cursor
        await Commit("labels", 7, Minute + 30);
        await Commit("firehose", 2000, Minute + 60);
        Assert.Equal([("firehose", Minute, 1000L), ("firehose", Minute + 60, 2000L), ("labels", Minute, 7L)], await SamplesAsync(database));
        Assert.Equal(2000L, await writer.LoadCursorAsync("firehose", CancellationToken.None));

        // Eight days and a minute later, the first minute's samples of that stream are past the retention; the other
        // stream's stay until its own next commit.
        var later = Minute + 8 * 86_400 + 61;
        await Commit("firehose", 900_000, later);
        Assert.Equal([("firehose", later - later % 60, 900_000L), ("labels", Minute, 7L)], await SamplesAsync(database));
        await Commit("labels", 8, later);
        Assert.Equal([("firehose", later - later % 60, 900_000L), ("labels", later - later % 60, 8L)], await SamplesAsync(database));
    }
}
