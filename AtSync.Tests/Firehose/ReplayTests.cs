using AtSync.Firehose;
using AtSync.Firehose.Ingest;
using AtSync.Testing.Synthetic;
using AtSync.Tests.Infrastructure;

namespace AtSync.Tests.Firehose;

/// <summary>The replay source through the whole service, and idempotence when events are applied again.</summary>
public sealed class ReplayTests
{
    private static readonly string BoardUri = $"at://{FirehoseHarness.ForumDid}/net.vza.forum.board/3kboardgeneral";

    [Fact]
    public async Task The_corpus_capture_replays_to_its_last_seq_and_a_second_replay_skips_every_event()
    {
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync();
        await FirehoseHarness.PrepareForumAsync(database, BoardUri);
        var capture = CorpusFiles.Path("firehose", "frames.bin.zst");
        var replay = new Dictionary<string, string?> { [FirehoseOptions.ReplayFileSetting] = capture };

        await using (var first = await FirehoseHarness.StartAsync(database, new Uri("ws://127.0.0.1:9/"), extra: replay))
        {
            await first.WaitForCursorAsync(FirehoseStreams.RepoService, 31527015471);
            Assert.Equal(148, FirehoseHarness.Sum(first.Events, "type", "commit"));
            Assert.Equal(0, FirehoseHarness.Sum(first.DecodeErrors));
        }
        var before = await DatabaseSnapshot.TakeAsync(database);

        await using var second = await FirehoseHarness.StartAsync(database, new Uri("ws://127.0.0.1:9/"), extra: replay);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (FirehoseHarness.Sum(second.Skipped, "reason", "seq_not_after_cursor") < 150 && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.Equal(150, FirehoseHarness.Sum(second.Skipped, "reason", "seq_not_after_cursor"));
        Assert.Equal(before, await DatabaseSnapshot.TakeAsync(database));
    }

    [Fact]
    public async Task Applying_a_synthetic_stream_again_from_a_reset_cursor_leaves_the_database_as_one_pass_left_it()
    {
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync();
        await FirehoseHarness.PrepareForumAsync(database, BoardUri);
        using var factory = ForumFrameFactory.Create();
        var frames = SyntheticStream.Generate(factory, new SyntheticStreamOptions { Frames = 600, ForumShare = 0.6, BoardUri = BoardUri, Authors = 20, Seed = 5 }).ToList();
        var path = Path.Combine(Path.GetTempPath(), $"atsync-synthetic-{Guid.NewGuid():N}.bin.zst");
        await CaptureFileSource.WriteAsync(path, frames.Select(f => (ReadOnlyMemory<byte>)f.Frame), compress: true);
        try
        {
            var replay = new Dictionary<string, string?> { [FirehoseOptions.ReplayFileSetting] = path };
            await using (var first = await FirehoseHarness.StartAsync(database, new Uri("ws://127.0.0.1:9/"), extra: replay, signingKey: factory.SigningKey.PublicKey))
            {
                await first.WaitForCursorAsync(FirehoseStreams.RepoService, frames[^1].Seq);
                Assert.True(FirehoseHarness.Sum(first.ForumOps, "action", "topic") > 20);
                Assert.True(FirehoseHarness.Sum(first.ForumOps, "action", "reply") > 50);
                Assert.True(FirehoseHarness.Sum(first.ForumOps, "action", "edit") > 5);
                Assert.True(FirehoseHarness.Sum(first.ForumOps, "action", "delete") > 5);
                Assert.True(FirehoseHarness.Sum(first.ForumOps, "action", "unparked") > 0);
            }
            var once = await DatabaseSnapshot.TakeAsync(database);

            // An operator resets the cursor: every event is applied a second time.
            await database.ExecuteAsync($"DELETE FROM {database.Tables.Cursors}");
            await using (var again = await FirehoseHarness.StartAsync(database, new Uri("ws://127.0.0.1:9/"), extra: replay, signingKey: factory.SigningKey.PublicKey))
            {
                await again.WaitForCursorAsync(FirehoseStreams.RepoService, frames[^1].Seq);
                Assert.Equal(0, FirehoseHarness.Sum(again.ForumOps, "action", "topic") + FirehoseHarness.Sum(again.ForumOps, "action", "reply"));
                Assert.True(FirehoseHarness.Sum(again.Skipped, "reason", "stale_revision") > 100);
            }
            Assert.Equal(once, await DatabaseSnapshot.TakeAsync(database));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
