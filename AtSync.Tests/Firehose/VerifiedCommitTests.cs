using AtSync.AtProto.Cids;
using AtSync.AtProto.Crypto;
using AtSync.AtProto.EventStream;
using AtSync.Core.Forum;
using AtSync.Firehose;
using AtSync.Testing;
using AtSync.Testing.Synthetic;
using AtSync.Tests.Infrastructure;
using MySqlConnector;

namespace AtSync.Tests.Firehose;

/// <summary>
/// Sync 1.1 in the live stream (issue #14 items 2 and 3): forum commits are applied only when signed, when their ops
/// invert the signed tree to <c>prevData</c> with the right <c>prev</c>s and when their rev follows the stored one;
/// a refused commit leaves its repository desynchronized (durably, with the reason, counted) and holds its later
/// commits, while other authors go on. A verified <c>#sync</c> newer than the stored rev asks for an import.
/// </summary>
public sealed class VerifiedCommitTests
{
    private const string Alice = "did:plc:aliceaaaaaaaaaaaaaaaaaaa";
    private const string Bob = "did:plc:bobbbbbbbbbbbbbbbbbbbbbb";
    private const string Carol = "did:plc:carolccccccccccccccccccc";
    private const string Dan = "did:plc:danddddddddddddddddddddd";
    private const string Erin = "did:plc:erineeeeeeeeeeeeeeeeeeee";
    private static readonly string BoardUri = $"at://{FirehoseHarness.ForumDid}/net.vza.forum.board/3kboardgeneral";
    private static readonly StrongRef Board = new(BoardUri, "bafyreib2rxk3rybk3aobmv5cjuql3bm2twh4jo5uxgf5vadynilrvz6qcy");
    private static readonly DateTimeOffset T0 = new(2026, 7, 4, 15, 0, 0, TimeSpan.Zero);

    private static ForumPostRecord Topic(string subject) => new("text of " + subject, "2026-07-04T14:59:00.000Z", Board, subject, null, null, null);

    /// <summary>Re-encodes a factory commit frame with <paramref name="change"/> applied (the signed commit block stays as signed).</summary>
    private static byte[] Tamper(byte[] frame, Func<CommitEvent, CommitEvent> change) =>
        FrameEncoder.Encode(change((CommitEvent)FrameDecoder.DecodeRepoFrame(frame)));

    private static Cid SomeCid(string text) => Cid.ForDagCbor(ForumFrameFactory.PostRecord(Topic(text)));

    [Fact]
    public async Task Hand_made_bad_commits_are_refused_their_repositories_desynchronized_nothing_applied_and_counted_by_reason()
    {
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync();
        await FirehoseHarness.PrepareForumAsync(database, BoardUri);
        using var frames = ForumFrameFactory.Create();
        var seq = 0L;
        var stream = new List<(long, byte[])>();
        void Add(byte[] frame) => stream.Add((seq, frame));

        // Each of Bob, Carol, Dan and Erin first publishes a good topic (their repository state is stored), then a bad
        // commit, then a good one, which must wait behind the refusal.
        foreach (var did in new[] { Bob, Carol, Dan, Erin }) Add(frames.Post(++seq, did, "3kgood0000001", Topic($"Good {did[8..11]}"), T0.AddSeconds(seq)).Frame);

        // An op whose record CID is not what the signed tree holds.
        var notInTree = frames.Post(++seq, Bob, "3kbad00000001", Topic("Bob forged"), T0.AddSeconds(seq));
        Add(Tamper(notInTree.Frame, c => c with { Ops = [new RepoOp(RepoAction.Create, c.Ops[0].Path, SomeCid("something else"))] }));
        // An update whose prev is not the record it replaced.
        var edit = frames.Post(++seq, Carol, "3kgood0000001", Topic("Carol edited"), T0.AddSeconds(seq), update: true);
        Add(Tamper(edit.Frame, c => c with { Ops = [new RepoOp(RepoAction.Update, c.Ops[0].Path, c.Ops[0].Cid, SomeCid("not the old one"))] }));
        // A tree that does not invert to prevData: another root claimed as the previous one.
        var otherRoot = frames.Post(++seq, Dan, "3kbad00000003", Topic("Dan forged"), T0.AddSeconds(seq));
        Add(Tamper(otherRoot.Frame, c => c with { PrevData = SomeCid("not a tree") }));
        // A stale rev: Erin's commit built first is sent after a later one.
        var olderSeq = ++seq;
        var newerSeq = ++seq;
        var older = frames.Post(olderSeq, Erin, "3kbad00000004", Topic("Erin older"), T0.AddSeconds(olderSeq));
        var newer = frames.Post(newerSeq, Erin, "3kbad00000005", Topic("Erin newer"), T0.AddSeconds(newerSeq));
        stream.Add((olderSeq, Tamper(newer.Frame, c => c with { Seq = olderSeq })));
        stream.Add((newerSeq, Tamper(older.Frame, c => c with { Seq = newerSeq })));

        var later = new Dictionary<string, long>();
        foreach (var did in new[] { Bob, Carol, Dan, Erin })
        {
            Add(frames.Post(++seq, did, "3klater000001", Topic($"Later {did[8..11]}"), T0.AddSeconds(seq)).Frame);
            later[did] = seq;
        }
        Add(frames.Post(++seq, Alice, "3kalice000001", Topic("Alice goes on"), T0.AddSeconds(seq)).Frame);

        await using var relay = await LoopbackRelay.StartAsync(FirehoseStreams.SubscribeReposPath);
        relay.Publish(stream);
        await using var firehose = await FirehoseHarness.StartAsync(database, relay.Url, signingKey: frames.SigningKey.PublicKey);
        await firehose.WaitForCursorAsync(FirehoseStreams.RepoService, seq);

        Assert.Equal(["Good bob", "Good car", "Good dan", "Good eri", "Erin newer", "Alice goes on"], await TitlesAsync(database));
        var expected = new Dictionary<string, string>
        {
            [Bob] = "op_not_in_tree", [Carol] = "inverted_root_mismatch", [Dan] = "inverted_root_mismatch", [Erin] = "stale_rev",
        };
        foreach (var (did, reason) in expected)
        {
            Assert.Equal(("desynchronized", reason), (await firehose.RepoAsync(did)) is { } row ? (row.Status, row.Reason) : default);
            // The good commit after the refusal waits for the repository's import.
            Assert.Equal([later[did]], await firehose.HeldAsync(did));
        }
        Assert.Equal(("active", ""), (await firehose.RepoAsync(Alice)) is { } alice ? (alice.Status, alice.Reason) : default);
        Assert.Equal(1, FirehoseHarness.Sum(firehose.CommitsRejected, "reason", "op_not_in_tree"));
        Assert.Equal(2, FirehoseHarness.Sum(firehose.CommitsRejected, "reason", "inverted_root_mismatch"));
        Assert.Equal(1, FirehoseHarness.Sum(firehose.CommitsRejected, "reason", "stale_rev"));
        Assert.Equal(4, FirehoseHarness.Sum(firehose.CommitsHeld, "reason", "desynchronized"));
        Assert.Equal(4, FirehoseHarness.Sum(firehose.Skipped, "reason", Outcomes.CommitRejected));
    }

    [Fact]
    public async Task A_signed_sync_newer_than_stored_requests_a_resync_holds_live_commits_and_the_import_releases_them()
    {
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync();
        await FirehoseHarness.PrepareForumAsync(database, BoardUri);
        using var frames = ForumFrameFactory.Create();
        using var stranger = SigningKey.Generate(KeyCurve.Secp256k1);
        const string Untracked = "did:plc:untrackeduuuuuuuuuuuuuuu";
        await using var relay = await LoopbackRelay.StartAsync(FirehoseStreams.SubscribeReposPath);
        var before = frames.Post(1, Alice, "3ktopic00001", Topic("Before the sync"), T0).Frame;
        var aliceSync = frames.Sync(3, Alice, T0.AddMinutes(1));
        var syncCommit = ((SyncEvent)FrameDecoder.DecodeRepoFrame(aliceSync)).ReadCommitBlock();
        relay.Publish([
            (1, before),
            (2, frames.Post(2, Bob, "3ktopic00002", Topic("Bob before"), T0).Frame),
            (3, aliceSync),
            // Not signed by Bob's key: must not make work for anyone.
            (4, frames.Sync(4, Bob, T0.AddMinutes(1), key: stranger)),
            // A repository AtSync never followed.
            (5, frames.Sync(5, Untracked, T0.AddMinutes(1))),
            (6, frames.Post(6, Alice, "3ktopic00003", Topic("After the sync"), T0.AddMinutes(2)).Frame),
            (7, frames.Post(7, Bob, "3ktopic00004", Topic("Bob after"), T0.AddMinutes(2)).Frame),
        ]);

        await using var firehose = await FirehoseHarness.StartAsync(database, relay.Url, signingKey: frames.SigningKey.PublicKey);
        await firehose.WaitForCursorAsync(FirehoseStreams.RepoService, 7);

        Assert.Equal(["Before the sync", "Bob before", "Bob after"], await TitlesAsync(database));
        await using (var connection = await database.OpenAsync())
        {
            await using var command = new MySqlCommand($"SELECT status, requested_by, requested_at FROM {database.Tables.Repos} WHERE did = @did", connection);
            command.Parameters.AddWithValue("@did", Alice);
            await using var reader = await command.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            Assert.Equal("resync_requested", reader.GetString(0));
            Assert.Equal("sync", reader.GetString(1));
            Assert.True(Convert.ToInt64(reader.GetValue(2), System.Globalization.CultureInfo.InvariantCulture) > 0);
        }
        Assert.Equal([6L], await firehose.HeldAsync(Alice));
        Assert.Equal("active", (await firehose.RepoAsync(Bob))?.Status);
        Assert.Null(await firehose.RepoAsync(Untracked));
        Assert.Equal(1, FirehoseHarness.Sum(firehose.ResyncsRequested));
        Assert.Equal(1, FirehoseHarness.Sum(firehose.Skipped, "reason", Outcomes.SyncIgnored));

        // What helper backfill's importer does when it has imported Alice's repository at the #sync's commit: the
        // state is the imported commit's, the status active. The held commit follows that commit and is applied.
        await using (var connection = await database.OpenAsync())
        {
            await using var command = new MySqlCommand(
                $"UPDATE {database.Tables.Repos} SET status = 'active', rev = @rev, data_cid = @data WHERE did = @did", connection);
            command.Parameters.AddWithValue("@rev", syncCommit.Rev);
            command.Parameters.AddWithValue("@data", syncCommit.Data.ToString());
            command.Parameters.AddWithValue("@did", Alice);
            await command.ExecuteNonQueryAsync();
        }
        await FirehoseHarness.WaitUntilAsync(async () => (await firehose.HeldAsync(Alice)).Count == 0, "the held commit was never released");
        Assert.Equal(["Before the sync", "Bob before", "Bob after", "After the sync"], await TitlesAsync(database));
        Assert.Equal("active", (await firehose.RepoAsync(Alice))?.Status);
        Assert.Equal(1, FirehoseHarness.Sum(firehose.CommitsReleased));
    }

    private static async Task<List<string>> TitlesAsync(TestDatabase database)
    {
        var titles = new List<string>();
        await using var connection = await database.OpenAsync();
        await using var command = new MySqlCommand($"SELECT topic_title FROM {database.Tables.PhpbbTopics} ORDER BY topic_id", connection);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) titles.Add(reader.GetString(0));
        return titles;
    }
}
