using AtSync.Core.Forum;
using AtSync.Firehose;
using AtSync.Firehose.Repos;
using AtSync.Testing;
using AtSync.Testing.Synthetic;
using AtSync.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using MySqlConnector;

namespace AtSync.Tests.Firehose;

/// <summary>
/// Held commits are bounded: per repository by count (an author whose key never resolves cannot fill the database),
/// and each release reads a bounded number of bytes (a parked author's large frames are never loaded all at once).
/// </summary>
public sealed class HeldBoundsTests
{
    private const string Alice = "did:plc:aliceaaaaaaaaaaaaaaaaaaa";
    private const string Bob = "did:plc:bobbbbbbbbbbbbbbbbbbbbbb";
    private static readonly string BoardUri = $"at://{FirehoseHarness.ForumDid}/net.vza.forum.board/3kboardgeneral";
    private static readonly StrongRef Board = new(BoardUri, "bafyreib2rxk3rybk3aobmv5cjuql3bm2twh4jo5uxgf5vadynilrvz6qcy");
    private static readonly DateTimeOffset T0 = new(2026, 7, 4, 15, 0, 0, TimeSpan.Zero);

    private static ForumPostRecord Topic(string subject) => new("text of " + subject, "2026-07-04T14:59:00.000Z", Board, subject, null, null, null);

    [Fact]
    public async Task Commits_past_a_repositorys_bound_are_dropped_counted_and_the_repository_desynchronized_while_others_go_on()
    {
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync();
        await FirehoseHarness.PrepareForumAsync(database, BoardUri);
        using var frames = ForumFrameFactory.Create();
        await using var plc = await LoopbackPlc.StartAsync(frames.SigningKey.PublicKey);
        plc.Unavailable[Bob] = true;
        await using var relay = await LoopbackRelay.StartAsync(FirehoseStreams.SubscribeReposPath);
        relay.Publish([
            (1, frames.Post(1, Bob, "3ktopic00001", Topic("Bob 1"), T0).Frame),
            (2, frames.Post(2, Bob, "3ktopic00002", Topic("Bob 2"), T0.AddSeconds(1)).Frame),
            (3, frames.Post(3, Bob, "3ktopic00003", Topic("Bob 3"), T0.AddSeconds(2)).Frame),
            (4, frames.Post(4, Alice, "3ktopic00004", Topic("Alice"), T0.AddSeconds(3)).Frame),
            (5, frames.Post(5, Bob, "3ktopic00005", Topic("Bob 4"), T0.AddSeconds(4)).Frame),
            (6, frames.Post(6, Bob, "3ktopic00006", Topic("Bob 5"), T0.AddSeconds(5)).Frame),
        ]);
        await using var firehose = await FirehoseHarness.StartAsync(database, relay.Url, plcUrl: plc.BaseUri, extra: new Dictionary<string, string?>
        {
            ["Firehose:MaxHeldPerRepo"] = "2",
            ["Firehose:ParkedRetryFirst"] = "00:10:00",
            ["Firehose:ParkedRetryMax"] = "00:10:00",
        });
        await firehose.WaitForCursorAsync(FirehoseStreams.RepoService, 6);

        Assert.Equal([1L, 2L], await firehose.HeldAsync(Bob));
        Assert.Equal(3, FirehoseHarness.Sum(firehose.CommitsDropped, "reason", "held_over_limit"));
        Assert.Equal(("desynchronized", "held_over_limit"), (await firehose.RepoAsync(Bob)) is { } bob ? (bob.Status, bob.Reason) : default);
        // Nobody else waits for Bob.
        Assert.Equal(1L, await database.ScalarAsync<long>($"SELECT COUNT(*) FROM {database.Tables.PhpbbTopics} WHERE topic_title = 'Alice'"));
        Assert.Equal(0L, await database.ScalarAsync<long>($"SELECT COUNT(*) FROM {database.Tables.PhpbbTopics} WHERE topic_title LIKE 'Bob%'"));
    }

    [Fact]
    public async Task A_release_reads_at_most_its_byte_bound_but_always_the_oldest_frame()
    {
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync();
        await FirehoseHarness.PrepareForumAsync(database, BoardUri);
        await using var relay = await LoopbackRelay.StartAsync(FirehoseStreams.SubscribeReposPath);
        await using var firehose = await FirehoseHarness.StartAsync(database, relay.Url);
        await using (var connection = await database.OpenAsync())
        {
            // Desynchronized: the releaser leaves its frames where they are (only an import releases them).
            await using (var repo = new MySqlCommand($"INSERT INTO {database.Tables.Repos} (did, status, reason, updated_at) VALUES (@did, 'desynchronized', 'test', 0)", connection))
            {
                repo.Parameters.AddWithValue("@did", Bob);
                await repo.ExecuteNonQueryAsync();
            }
            foreach (var (seq, size) in new[] { (10L, 40_000), (11L, 40_000), (12L, 40_000), (13L, 10) })
            {
                await using var insert = new MySqlCommand($"""
                    INSERT INTO {database.Tables.HeldCommits} (did, seq, stream, format, frame, held_at) VALUES (@did, @seq, 'firehose', 'relay', @frame, 0)
                    """, connection);
                insert.Parameters.AddWithValue("@did", Bob);
                insert.Parameters.AddWithValue("@seq", seq);
                insert.Parameters.AddWithValue("@frame", new byte[size]);
                await insert.ExecuteNonQueryAsync();
            }
        }
        var store = firehose.Services.GetRequiredService<RepoStateStore>();

        Assert.Equal([10L, 11L], (await store.HeldAsync(Bob, 500, 80_000, CancellationToken.None)).Select(h => h.Seq));
        Assert.Equal([10L, 11L, 12L], (await store.HeldAsync(Bob, 500, 80_001, CancellationToken.None)).Select(h => h.Seq));
        Assert.Equal([10L], (await store.HeldAsync(Bob, 500, 1, CancellationToken.None)).Select(h => h.Seq));
        Assert.Equal([10L, 11L, 12L, 13L], (await store.HeldAsync(Bob, 500, 1_000_000, CancellationToken.None)).Select(h => h.Seq));
        Assert.Equal([10L, 11L], (await store.HeldAsync(Bob, 2, 1_000_000, CancellationToken.None)).Select(h => h.Seq));
    }
}
