using AtSync.AtProto.Crypto;
using AtSync.Core.Forum;
using AtSync.Firehose;
using AtSync.Firehose.Events;
using AtSync.Testing;
using AtSync.Testing.Synthetic;
using AtSync.Tests.Infrastructure;

namespace AtSync.Tests.Firehose;

/// <summary>
/// Commits carrying forum ops are applied only when signed by the repo's <c>#atproto</c> key, as a loopback PLC
/// directory serves it; anything else is skipped with a counted reason and the cursor still moves past it.
/// </summary>
public sealed class SignatureVerificationTests
{
    private const string Alice = "did:plc:aliceaaaaaaaaaaaaaaaaaaa";
    private const string Mallory = "did:plc:mallorymmmmmmmmmmmmmmmmm";
    private const string Dave = "did:plc:davedddddddddddddddddddd";
    private static readonly string BoardUri = $"at://{FirehoseHarness.ForumDid}/net.vza.forum.board/3kboardgeneral";
    private static readonly StrongRef Board = new(BoardUri, "bafyreib2rxk3rybk3aobmv5cjuql3bm2twh4jo5uxgf5vadynilrvz6qcy");
    private static readonly DateTimeOffset T0 = new(2026, 7, 4, 15, 0, 0, TimeSpan.Zero);

    private static ForumPostRecord Topic(string subject) => new("text of " + subject, "2026-07-04T14:59:00.000Z", Board, subject, null, null, null);

    [Fact]
    public async Task A_forum_commit_signed_by_another_key_is_skipped_counted_and_the_cursor_moves_past_it()
    {
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync();
        await FirehoseHarness.PrepareForumAsync(database, BoardUri);
        using var frames = ForumFrameFactory.Create();
        using var otherKey = SigningKey.Generate(KeyCurve.Secp256k1);
        await using var plc = await LoopbackPlc.StartAsync(frames.SigningKey.PublicKey);
        // Mallory's DID document names a different key than the one her commits are signed with.
        plc.Keys[Mallory] = otherKey.PublicKey;
        await using var relay = await LoopbackRelay.StartAsync(FirehoseStreams.SubscribeReposPath);
        relay.Publish([
            (1, frames.Post(1, Alice, "3ktopic00001", Topic("Signed by Alice"), T0).Frame),
            (2, frames.Post(2, Mallory, "3ktopic00002", Topic("Forged"), T0.AddMinutes(1)).Frame),
        ]);

        await using var firehose = await FirehoseHarness.StartAsync(database, relay.Url, plcUrl: plc.BaseUri);
        await firehose.WaitForCursorAsync(FirehoseStreams.RepoService, 2);

        var t = database.Tables;
        Assert.Equal(["Signed by Alice"], await TitlesAsync(database));
        Assert.Equal(0L, await database.ScalarAsync<long>($"SELECT COUNT(*) FROM {t.Users} WHERE did = '{Mallory}'"));
        Assert.Equal(0L, await database.ScalarAsync<long>($"SELECT COUNT(*) FROM {t.Posts} WHERE at_uri LIKE 'at://{Mallory}/%'"));
        await WaitForCountAsync(firehose, "bad_signature", 1);
        Assert.Equal(0, FirehoseHarness.Sum(firehose.Skipped, "reason", "unverified_signature"));
        Assert.Equal(1, FirehoseHarness.Sum(firehose.ForumOps, "action", "topic"));
        Assert.Contains(Mallory, plc.Requested);
    }

    [Fact]
    public async Task A_directory_outage_parks_the_author_and_the_stream_moves_on_without_losing_the_post()
    {
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync();
        await FirehoseHarness.PrepareForumAsync(database, BoardUri);
        using var frames = ForumFrameFactory.Create();
        await using var plc = await LoopbackPlc.StartAsync(frames.SigningKey.PublicKey);
        plc.Down = true;
        await using var relay = await LoopbackRelay.StartAsync(FirehoseStreams.SubscribeReposPath);
        relay.Publish([(1, frames.Post(1, Dave, "3ktopic00001", Topic("Held, not lost"), T0).Frame), (2, frames.Other(2, Alice, 1, T0))]);

        await using var firehose = await FirehoseHarness.StartAsync(database, relay.Url, plcUrl: plc.BaseUri,
            extra: new Dictionary<string, string?> { ["Firehose:ParkedRetryFirst"] = "00:00:01", ["Firehose:ParkedRetryMax"] = "00:00:01" });
        // The cursor moves past the post; the post waits, durably, with its repository parked.
        await firehose.WaitForCursorAsync(FirehoseStreams.RepoService, 2);
        Assert.Empty(await TitlesAsync(database));
        Assert.Equal([1L], await firehose.HeldAsync(Dave));
        Assert.Equal(("parked", "key_unavailable"), (await firehose.RepoAsync(Dave)) is { } row ? (row.Status, row.Reason) : default);
        // Retried while down (bounded backoff), nothing skipped or lost.
        await FirehoseHarness.WaitUntilAsync(() => Task.FromResult(plc.Requested.Count >= 2), "the directory was not asked again");

        plc.Down = false;

        await FirehoseHarness.WaitUntilAsync(async () => (await TitlesAsync(database)).Count == 1, "the parked post was never applied");
        Assert.Equal(["Held, not lost"], await TitlesAsync(database));
        Assert.Empty(await firehose.HeldAsync(Dave));
        Assert.Equal("active", (await firehose.RepoAsync(Dave))?.Status);
        Assert.Equal(0, FirehoseHarness.Sum(firehose.Skipped, "reason", "unverified_signature"));
        Assert.Equal(1, FirehoseHarness.Sum(firehose.CommitsHeld, "reason", "parked"));
    }

    [Fact]
    public async Task A_forum_commit_whose_DID_does_not_resolve_is_skipped_as_unverified()
    {
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync();
        await FirehoseHarness.PrepareForumAsync(database, BoardUri);
        using var frames = ForumFrameFactory.Create();
        await using var plc = await LoopbackPlc.StartAsync(frames.SigningKey.PublicKey);
        plc.Missing[Dave] = true;
        await using var relay = await LoopbackRelay.StartAsync(FirehoseStreams.SubscribeReposPath);
        relay.Publish([
            (1, frames.Post(1, Dave, "3ktopic00001", Topic("Nobody knows Dave"), T0).Frame),
            (2, frames.Other(2, Dave, 2, T0.AddMinutes(1))),
        ]);

        await using var firehose = await FirehoseHarness.StartAsync(database, relay.Url, plcUrl: plc.BaseUri);
        await firehose.WaitForCursorAsync(FirehoseStreams.RepoService, 2);

        Assert.Empty(await TitlesAsync(database));
        Assert.Equal(0L, await database.ScalarAsync<long>($"SELECT COUNT(*) FROM {database.Tables.Users} WHERE did = '{Dave}'"));
        await WaitForCountAsync(firehose, "unverified_signature", 1);
        Assert.Equal(0, FirehoseHarness.Sum(firehose.Skipped, "reason", "bad_signature"));
        // Only the forum commit was checked: the non-forum commit of the same repo needed no document.
        Assert.Equal([Dave], plc.Requested);
    }

    [Fact]
    public async Task A_forum_commit_signed_by_the_repo_key_is_applied()
    {
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync();
        await FirehoseHarness.PrepareForumAsync(database, BoardUri);
        using var frames = ForumFrameFactory.Create();
        await using var relay = await LoopbackRelay.StartAsync(FirehoseStreams.SubscribeReposPath);
        relay.Publish(1, frames.Post(1, Alice, "3ktopic00001", Topic("Verified"), T0).Frame);

        await using var firehose = await FirehoseHarness.StartAsync(database, relay.Url, signingKey: frames.SigningKey.PublicKey);
        await firehose.WaitForCursorAsync(FirehoseStreams.RepoService, 1);

        Assert.Equal(["Verified"], await TitlesAsync(database));
        Assert.Equal(1L, await database.ScalarAsync<long>($"SELECT COUNT(*) FROM {database.Tables.Users} WHERE did = '{Alice}'"));
        Assert.Equal(0, FirehoseHarness.Sum(firehose.Skipped, "reason", "bad_signature") + FirehoseHarness.Sum(firehose.Skipped, "reason", "unverified_signature"));
        Assert.Equal([Alice], firehose.Plc!.Requested);
    }

    [Fact]
    public async Task With_verification_switched_off_a_commit_of_an_unresolvable_author_is_applied()
    {
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync();
        await FirehoseHarness.PrepareForumAsync(database, BoardUri);
        using var frames = ForumFrameFactory.Create();
        using var otherKey = SigningKey.Generate(KeyCurve.Secp256k1);
        await using var plc = await LoopbackPlc.StartAsync(otherKey.PublicKey);
        plc.Missing[Mallory] = true;
        await using var relay = await LoopbackRelay.StartAsync(FirehoseStreams.SubscribeReposPath);
        relay.Publish(1, frames.Post(1, Mallory, "3ktopic00001", Topic("Unchecked"), T0).Frame);

        await using var firehose = await FirehoseHarness.StartAsync(database, relay.Url, plcUrl: plc.BaseUri,
            extra: new Dictionary<string, string?> { ["Firehose:VerifySignatures"] = "false" });
        await firehose.WaitForCursorAsync(FirehoseStreams.RepoService, 1);

        Assert.Equal(["Unchecked"], await TitlesAsync(database));
        Assert.Equal(0, FirehoseHarness.Sum(firehose.Skipped, "reason", "unverified_signature"));
    }

    private static async Task<List<string>> TitlesAsync(TestDatabase database)
    {
        var titles = new List<string>();
        await using var connection = await database.OpenAsync();
        await using var command = new MySqlConnector.MySqlCommand($"SELECT topic_title FROM {database.Tables.PhpbbTopics} ORDER BY topic_id", connection);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) titles.Add(reader.GetString(0));
        return titles;
    }

    /// <summary>Outcomes are recorded right after the batch commits: wait (bounded) for the count, then assert it exactly.</summary>
    private static async Task WaitForCountAsync(FirehoseHarness firehose, string reason, long expected)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (FirehoseHarness.Sum(firehose.Skipped, "reason", reason) < expected && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.Equal(expected, FirehoseHarness.Sum(firehose.Skipped, "reason", reason));
    }
}
