using AtSync.AtProto.Crypto;
using AtSync.Core.Forum;
using AtSync.Firehose;
using AtSync.Testing;
using AtSync.Testing.Synthetic;
using AtSync.Tests.Infrastructure;
using Wire = AtSync.AtProto.EventStream;

namespace AtSync.Tests.Firehose;

/// <summary>
/// Labels from LABELER_DID are applied only when signed with the labeler's <c>#atproto_label</c> key (from its DID
/// document on the loopback PLC); unsigned, tampered and foreign-key labels are ignored and counted, real MariaDB.
/// </summary>
public sealed class LabelVerificationTests
{
    private const string Alice = "did:plc:aliceaaaaaaaaaaaaaaaaaaa";
    private static readonly string BoardUri = $"at://{FirehoseHarness.ForumDid}/net.vza.forum.board/3kboardgeneral";
    private static readonly DateTimeOffset T0 = new(2026, 7, 4, 15, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Only_labels_signed_by_the_labelers_label_key_are_applied_and_the_rest_are_counted()
    {
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync();
        await FirehoseHarness.PrepareForumAsync(database, BoardUri);
        using var frames = ForumFrameFactory.Create();
        await using var relay = await LoopbackRelay.StartAsync(FirehoseStreams.SubscribeReposPath);
        await using var labeler = await LoopbackRelay.StartAsync(FirehoseStreams.SubscribeLabelsPath);
        var board = new StrongRef(BoardUri, "bafyreib2rxk3rybk3aobmv5cjuql3bm2twh4jo5uxgf5vadynilrvz6qcy");
        var topic = frames.Post(1, Alice, "3ktopic00001", new ForumPostRecord("x", "2026-07-04T14:59:00.000Z", board, "Labelled", null, null, null), T0);
        relay.Publish(1, topic.Frame);
        await using var firehose = await FirehoseHarness.StartAsync(database, relay.Url, labelerUrl: labeler.Url, signingKey: frames.SigningKey.PublicKey);
        await firehose.WaitForCursorAsync(FirehoseStreams.RepoService, 1);
        var t = database.Tables;
        var at = T0.AddMinutes(10);
        LabelRecord On(string value) => new(FirehoseHarness.LabelerDid, topic.Uri, null, value, false, at, null);
        using var stranger = SigningKey.Generate(KeyCurve.P256);

        labeler.Publish(100, Wire.FrameEncoder.Encode(new Wire.LabelsEvent
        {
            Seq = 100,
            Labels =
            [
                ForumFrameFactory.Sign(ForumFrameFactory.Label(On("signed")), FirehoseHarness.LabelerKey),
                ForumFrameFactory.Label(On("unsigned")),
                ForumFrameFactory.Sign(ForumFrameFactory.Label(On("other-key")), stranger),
                // Signed, then changed on the way: the signature no longer covers it.
                ForumFrameFactory.Sign(ForumFrameFactory.Label(On("tampered")), FirehoseHarness.LabelerKey) with { Val = "!hide" },
                // Signed with the labeler's repo key (#atproto), not its label key (#atproto_label).
                ForumFrameFactory.Sign(ForumFrameFactory.Label(On("repo-key")), frames.SigningKey),
            ],
        }));
        await firehose.WaitForCursorAsync(FirehoseStreams.LabelService, 100);

        Assert.Equal(["signed"], await LabelValuesAsync(database));
        Assert.Equal(1L, await database.ScalarAsync<long>($"SELECT post_visibility FROM {t.PhpbbPosts}"));
        Assert.Equal(1, FirehoseHarness.Sum(firehose.Labels, "outcome", "stored"));
        Assert.Equal(1, FirehoseHarness.Sum(firehose.Skipped, "reason", "unsigned_label"));
        Assert.Equal(3, FirehoseHarness.Sum(firehose.Skipped, "reason", "bad_label_signature"));

        // A signed !hide hides the post.
        labeler.Publish(101, ForumFrameFactory.Labels(101, FirehoseHarness.LabelerKey, On(ModerationLabels.Hide)));
        await firehose.WaitForCursorAsync(FirehoseStreams.LabelService, 101);
        Assert.Equal(2L, await database.ScalarAsync<long>($"SELECT post_visibility FROM {t.PhpbbPosts}"));

        // The labeler rotates its label key: a label signed with the new key verifies after one fresh look at its
        // document; one still signed with the old key does not.
        using var rotated = SigningKey.Generate(KeyCurve.Secp256k1);
        firehose.Plc!.LabelKeys[FirehoseHarness.LabelerDid] = rotated.PublicKey;
        labeler.Publish([
            (102, ForumFrameFactory.Labels(102, rotated, On("after-rotation"))),
        ]);
        await firehose.WaitForCursorAsync(FirehoseStreams.LabelService, 102);
        labeler.Publish(103, ForumFrameFactory.Labels(103, FirehoseHarness.LabelerKey, On("old-key")));
        await firehose.WaitForCursorAsync(FirehoseStreams.LabelService, 103);
        Assert.Equal(["!hide", "after-rotation", "signed"], await LabelValuesAsync(database));
        Assert.Equal(4, FirehoseHarness.Sum(firehose.Skipped, "reason", "bad_label_signature"));
    }

    [Fact]
    public async Task Labels_are_ignored_when_the_labelers_document_has_no_label_key()
    {
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync();
        await FirehoseHarness.PrepareForumAsync(database, BoardUri);
        using var frames = ForumFrameFactory.Create();
        await using var relay = await LoopbackRelay.StartAsync(FirehoseStreams.SubscribeReposPath);
        await using var labeler = await LoopbackRelay.StartAsync(FirehoseStreams.SubscribeLabelsPath);
        var board = new StrongRef(BoardUri, "bafyreib2rxk3rybk3aobmv5cjuql3bm2twh4jo5uxgf5vadynilrvz6qcy");
        var topic = frames.Post(1, Alice, "3ktopic00001", new ForumPostRecord("x", "2026-07-04T14:59:00.000Z", board, "Labelled", null, null, null), T0);
        relay.Publish(1, topic.Frame);
        await using var firehose = await FirehoseHarness.StartAsync(database, relay.Url, labelerUrl: labeler.Url, signingKey: frames.SigningKey.PublicKey);
        firehose.Plc!.LabelKeys.TryRemove(FirehoseHarness.LabelerDid, out _);
        await firehose.WaitForCursorAsync(FirehoseStreams.RepoService, 1);

        labeler.Publish(100, ForumFrameFactory.Labels(100, FirehoseHarness.LabelerKey,
            new LabelRecord(FirehoseHarness.LabelerDid, topic.Uri, null, ModerationLabels.Hide, false, T0, null)));
        await firehose.WaitForCursorAsync(FirehoseStreams.LabelService, 100);

        Assert.Empty(await LabelValuesAsync(database));
        Assert.Equal(1L, await database.ScalarAsync<long>($"SELECT post_visibility FROM {database.Tables.PhpbbPosts}"));
        Assert.Equal(1, FirehoseHarness.Sum(firehose.Skipped, "reason", "unverified_label"));
    }

    private static async Task<List<string>> LabelValuesAsync(TestDatabase database)
    {
        await using var connection = await database.OpenAsync();
        await using var command = new MySqlConnector.MySqlCommand($"SELECT label_value FROM {database.Tables.Labels} ORDER BY label_value", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var values = new List<string>();
        while (await reader.ReadAsync()) values.Add(reader.GetString(0));
        return values;
    }
}
