using System.Threading.Channels;
using AtSync.Core.Forum;
using AtSync.Firehose;
using AtSync.Firehose.Apply;
using AtSync.Firehose.Events;
using AtSync.Firehose.Ingest;
using AtSync.Firehose.Processing;
using AtSync.Firehose.Verify;
using AtSync.Testing;
using AtSync.Testing.Synthetic;
using AtSync.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace AtSync.Tests.Firehose;

/// <summary>
/// A source that fails with something other than a disconnect (in the deployment test: memory exhausted while large
/// frames queued) is started again from the last accepted event; the stream never ends silently.
/// </summary>
public sealed class SourceRestartTests
{
    private const string Author = "did:plc:restartauthoraaaaaaaaaa";
    private static readonly string BoardUri = $"at://{FirehoseHarness.ForumDid}/net.vza.forum.board/3kboardgeneral";

    /// <summary>
    /// Serves the frames after the resume cursor; the first run throws after <paramref name="failAfter"/> frames, once
    /// they were accepted.
    /// </summary>
    private sealed class FailingOnceSource(IReadOnlyList<(long Seq, byte[] Frame)> frames, int failAfter) : IFrameSource
    {
        public List<long?> Resumes { get; } = [];

        public string Kind => "test";

        public async Task RunAsync(ChannelWriter<ReceivedFrame> output, Func<long?> resumeCursor, CancellationToken cancellationToken)
        {
            var cursor = resumeCursor();
            Resumes.Add(cursor);
            var sent = 0;
            foreach (var (seq, frame) in frames.Where(f => cursor is null || f.Seq > cursor))
            {
                if (Resumes.Count == 1 && sent == failAfter)
                {
                    // Fails once the processor has accepted what was sent, so the restart's cursor is known.
                    while (resumeCursor() != frames[failAfter - 1].Seq) await Task.Delay(10, cancellationToken);
                    throw new OutOfMemoryException("simulated");
                }
                await output.WriteAsync(ReceivedFrame.Copy(frame, 0), cancellationToken);
                sent++;
            }
        }
    }

    [Fact]
    public async Task A_source_that_throws_is_started_again_from_the_last_accepted_event_and_every_post_lands_once()
    {
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync();
        await FirehoseHarness.PrepareForumAsync(database, BoardUri);
        using var factory = ForumFrameFactory.Create();
        var board = new StrongRef(BoardUri, "bafyreib2rxk3rybk3aobmv5cjuql3bm2twh4jo5uxgf5vadynilrvz6qcy");
        var frames = Enumerable.Range(1, 40).Select(i => (Seq: (long)i, factory.Post(i, Author, ForumFrameFactory.Rkey(i),
            new ForumPostRecord($"Text {i}", null, board, $"Topic {i}", null, null, null), DateTimeOffset.UnixEpoch.AddDays(20_000).AddSeconds(i)).Frame)).ToList();
        await using var relay = await LoopbackRelay.StartAsync(FirehoseStreams.SubscribeReposPath);
        await using var firehose = await FirehoseHarness.StartAsync(database, relay.Url, extra: new Dictionary<string, string?> { ["Firehose:VerifySignatures"] = "false" });
        var services = firehose.Services;
        var options = services.GetRequiredService<IOptions<FirehoseOptions>>().Value;
        var source = new FailingOnceSource(frames, failAfter: 15);
        var state = new StreamState("restart");
        var processor = new StreamProcessor("restart", source, services.GetRequiredService<IStreamDecoder>().DecodeRepoFrame,
            services.GetRequiredService<BatchVerifier>(), services.GetRequiredService<BatchWriter>(), state, options,
            services.GetRequiredService<FirehoseMetrics>(), TimeProvider.System, NullLogger.Instance);

        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var run = processor.RunAsync(stop.Token);
        await processor.Drained.WaitAsync(TimeSpan.FromSeconds(45));
        await stop.CancelAsync();
        await run;

        Assert.Equal(2, source.Resumes.Count);
        Assert.Null(source.Resumes[0]);
        Assert.Equal(15L, source.Resumes[1]);
        Assert.Equal(40L, await firehose.CursorAsync("restart"));
        Assert.Equal(40L, await database.ScalarAsync<long>($"SELECT COUNT(*) FROM {database.Tables.Posts} WHERE author_did = '{Author}'"));
        Assert.Equal(40L, await database.ScalarAsync<long>($"SELECT COUNT(DISTINCT at_uri) FROM {database.Tables.Posts} WHERE author_did = '{Author}'"));
        Assert.Equal("test source failed (OutOfMemoryException)", state.Problem);
    }
}
