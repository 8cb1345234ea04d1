using System.Text;
using AtSync.AtProto.Cids;
using AtSync.AtProto.DagCbor;
using AtSync.AtProto.Json;
using AtSync.Core.Forum;
using AtSync.Firehose.Events;
using AtSync.Firehose.Ingest.Jetstream;
using AtSync.Testing.Synthetic;
using AtSync.Tests.Infrastructure;
using Wire = AtSync.AtProto.EventStream;

namespace AtSync.Tests.Firehose.Jetstream;

/// <summary>
/// Jetstream v1's wire format against the corpus: <c>expected_v1.jsonl</c> is what production Jetstream served for the
/// same window as the 150 relay frames, so every event must read as the relay's ops (same DIDs, revs, paths, CIDs), every
/// record's JSON must turn back into the relay's exact record block, and zstd frames made with the published dictionary
/// must decode to the same events.
/// </summary>
public sealed class JetstreamWireTests
{
    private static IReadOnlyList<byte[]> Lines() =>
        [.. File.ReadAllLines(CorpusFiles.Path("firehose", "expected_v1.jsonl")).Where(l => l.Length > 0).Select(Encoding.UTF8.GetBytes)];

    private static IReadOnlyList<Wire.FirehoseEvent> RelayEvents() =>
        [.. CorpusFiles.FirehoseFrames().Select(f => Wire.FrameDecoder.DecodeRepoFrame(f))];

    [Fact]
    public void Every_v1_event_is_the_relays_op_and_every_record_json_is_the_relays_record_block()
    {
        var messages = Lines().Select(l => JetstreamMessage.Parse(l)).ToList();
        Assert.Equal(152, messages.Count);
        var relay = RelayEvents();
        var relayOps = relay.OfType<Wire.CommitEvent>()
            .SelectMany(c => c.Ops.Select(o => (c.Repo, c.Rev, Action: o.Action.ToString().ToLowerInvariant(), o.Path, Cid: o.Cid?.ToString(), Commit: c)))
            .ToList();
        var commits = messages.Where(m => m.Kind == JetstreamMessage.CommitKind).ToList();
        Assert.Equal(150, commits.Count);
        Assert.Equal(
            relayOps.Select(o => $"{o.Repo} {o.Rev} {o.Action} {o.Path} {o.Cid}").Order(StringComparer.Ordinal),
            commits.Select(m => $"{m.Did} {m.Commit!.Rev} {m.Commit.Operation} {m.Commit.Path} {m.Commit.Cid}").Order(StringComparer.Ordinal));

        var records = 0;
        foreach (var message in commits.Where(m => m.Commit!.RecordJson is not null))
        {
            var value = AtProtoJson.FromJson(message.Commit!.RecordJson!);
            var bytes = DagCborWriter.Encode(value);
            Assert.Equal(message.Commit.Cid, Cid.ForDagCbor(bytes).ToString());
            var op = relayOps.Single(o => o.Repo == message.Did && o.Path == message.Commit.Path && o.Rev == message.Commit.Rev);
            Assert.True(op.Commit.Blocks.TryGetBlock(Cid.Parse(op.Cid!), out var block));
            Assert.Equal(block.ToArray(), bytes);
            records++;
        }
        Assert.Equal(146, records);

        var identity = Assert.Single(messages, m => m.Kind == JetstreamMessage.IdentityKind);
        var relayIdentity = Assert.Single(relay.OfType<Wire.IdentityEvent>());
        Assert.Equal(relayIdentity.Did, identity.Did);
        Assert.Equal(relayIdentity.Handle, identity.Handle);
        var account = Assert.Single(messages, m => m.Kind == JetstreamMessage.AccountKind);
        var relayAccount = Assert.Single(relay.OfType<Wire.AccountEvent>());
        Assert.Equal((relayAccount.Did, relayAccount.Active, relayAccount.Status), (account.Did, account.Active!.Value, account.Status));
        // time_us is Jetstream's own clock: roughly, not strictly, ordered in serving order (why its cursor is rewound).
        Assert.Contains(messages.Zip(messages.Skip(1)), pair => pair.Second.TimeUs < pair.First.TimeUs);
    }

    [Fact]
    public void The_decoder_maps_the_corpus_onto_the_event_model_and_keeps_no_foreign_op()
    {
        var decoder = new JetstreamEventDecoder(1024 * 1024);
        var events = Lines().Select(l => decoder.Decode(l)).ToList();
        var commits = events.OfType<CommitEvent>().ToList();
        Assert.Equal(150, commits.Count);
        Assert.All(commits, c => Assert.Empty(c.ForumOps));
        Assert.Equal(150, commits.Sum(c => c.OtherOps));
        var identity = Assert.Single(events.OfType<IdentityEvent>());
        Assert.Equal(1783175888384849, identity.SeqNumber);
        // The relay's own stamp, carried inside Jetstream's event, as the relay path takes it from the frame: the same
        // event lands with the same time from either source (time_us, half a second later here, is only the fallback).
        Assert.Equal(new DateTimeOffset(2026, 7, 4, 14, 38, 7, 877, TimeSpan.Zero), identity.Time);
        var account = Assert.Single(events.OfType<AccountEvent>());
        Assert.True(account.Active);
        Assert.Equal(new DateTimeOffset(2026, 7, 4, 14, 38, 7, 877, TimeSpan.Zero), account.Time);
        Assert.Equal(new DateTimeOffset(2026, 7, 4, 14, 38, 8, 384, TimeSpan.Zero).AddTicks(8490), JetstreamEventDecoder.TimeOf(identity.SeqNumber));
        Assert.Equal(events.Select(e => e.Seq), Lines().Select(l => (long?)JetstreamMessage.Parse(l).TimeUs));
    }

    [Fact]
    public void Zstd_frames_made_with_the_published_dictionary_decode_to_the_same_events()
    {
        var dictionary = JetstreamDictionary.Dictionary;
        Assert.Equal(112_640, dictionary.Length);
        Assert.Equal(JetstreamDictionary.Id, BitConverter.ToUInt32(dictionary, 4));
        var decoder = new JetstreamEventDecoder(1024 * 1024);
        using var compressor = JetstreamDictionary.NewCompressor();
        using var plain = new ZstdSharp.Compressor(3);
        long raw = 0, withDictionary = 0, without = 0;
        foreach (var line in Lines())
        {
            var frame = compressor.Wrap(line).ToArray();
            Assert.True(JetstreamDictionary.IsCompressed(frame));
            Assert.False(JetstreamDictionary.IsCompressed(line));
            Assert.Equal(line, JetstreamDictionary.Decompress(frame, 1024 * 1024));
            Assert.Equal(Describe(decoder.Decode(line)), Describe(decoder.Decode(frame)));
            raw += line.Length;
            withDictionary += frame.Length;
            without += plain.Wrap(line).Length;
        }
        // The dictionary is what makes per-message compression pay: each event is compressed on its own.
        Assert.True(withDictionary * 2 < raw, $"{withDictionary} of {raw} bytes");
        Assert.True(withDictionary < without, $"{withDictionary} with the dictionary, {without} without");
    }

    [Fact]
    public void A_frame_over_the_bound_garbage_and_malformed_events_are_decode_errors()
    {
        using var compressor = JetstreamDictionary.NewCompressor();
        var big = Encoding.UTF8.GetBytes("{\"did\":\"did:plc:aaaaaaaaaaaaaaaaaaaaaaaa\",\"time_us\":1,\"kind\":\"x\",\"pad\":\"" + new string('a', 200_000) + "\"}");
        var decoder = new JetstreamEventDecoder(64 * 1024);
        Assert.Throws<StreamDecodeException>(() => decoder.Decode(compressor.Wrap(big).ToArray()));
        Assert.IsType<UnknownEvent>(new JetstreamEventDecoder(1024 * 1024).Decode(compressor.Wrap(big).ToArray()));
        byte[] garbage = [0x28, 0xB5, 0x2F, 0xFD, 1, 2, 3, 4, 5];
        Assert.Throws<StreamDecodeException>(() => decoder.Decode(garbage));
        foreach (var bad in new[]
        {
            "[]", "{}", "{\"did\":\"did:plc:x\",\"kind\":\"commit\"}", "{\"did\":\"not a did\",\"time_us\":5,\"kind\":\"identity\",\"identity\":{}}",
            "{\"did\":\"did:plc:aaaaaaaaaaaaaaaaaaaaaaaa\",\"time_us\":5,\"kind\":\"commit\",\"commit\":{\"rev\":\"3l\",\"operation\":\"create\",\"collection\":\"a.b.c\",\"rkey\":\"k\"}}",
            "{\"did\":\"did:plc:aaaaaaaaaaaaaaaaaaaaaaaa\",\"time_us\":5,\"kind\":\"account\",\"account\":{\"active\":\"yes\"}}",
            "{\"did\":\"did:plc:aaaaaaaaaaaaaaaaaaaaaaaa\",\"time_us\":-5,\"kind\":\"identity\",\"identity\":{}}",
        })
        {
            Assert.Throws<StreamDecodeException>(() => decoder.Decode(Encoding.UTF8.GetBytes(bad)));
        }
    }

    [Fact]
    public void A_forum_record_is_read_from_its_json_and_a_record_that_is_not_its_cid_is_marked()
    {
        using var key = AtSync.AtProto.Crypto.SigningKey.Generate(AtSync.AtProto.Crypto.KeyCurve.Secp256k1);
        var repos = new ForumRepositories(key);
        var board = new StrongRef("at://did:plc:forumforumforumforum0001/net.vza.forum.board/3kboard", "bafyreib2rxk3rybk3aobmv5cjuql3bm2twh4jo5uxgf5vadynilrvz6qcy");
        var record = new ForumPostRecord("Hello [b]world[/b] \"quoted\" ✓", "2026-07-04T15:00:00.000Z", board, "A subject", null, null, "sticky");
        var did = ForumNetwork.Author(1);
        var written = repos.Commit(1, did, DateTimeOffset.UnixEpoch.AddYears(56), ($"{ForumLexicon.Post}/3ktopic00001", ForumFrameFactory.PostRecord(record)));
        var json = Assert.Single(written.JetstreamEvents);
        var decoded = Assert.IsType<CommitEvent>(new JetstreamEventDecoder(1 << 20).Decode(json));
        var op = Assert.Single(decoded.ForumOps);
        Assert.Null(op.Problem);
        Assert.Equal((ForumOp.Create, ForumLexicon.Post, "3ktopic00001", written.Cids[0]), (op.Action, op.Collection, op.Rkey, op.Cid));
        Assert.Equal(record, op.Post);

        var tampered = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(json).Replace("Hello", "Hallo", StringComparison.Ordinal));
        var bad = Assert.Single(Assert.IsType<CommitEvent>(new JetstreamEventDecoder(1 << 20).Decode(tampered)).ForumOps);
        Assert.Equal(JetstreamEventDecoder.RecordHashMismatch, bad.Problem);
        Assert.Null(bad.Post);
    }

    [Fact]
    public void The_subscribe_url_asks_for_the_forum_collections_compressed_and_the_cursor_is_rewound()
    {
        var url = JetstreamUrl.Subscribe("https://jetstream.example.com", compress: true);
        Assert.Equal("wss://jetstream.example.com/subscribe?wantedCollections=net.vza.forum.%2A&compress=true", url.ToString());
        Assert.Equal("ws://127.0.0.1:6008/subscribe?x=1&wantedCollections=net.vza.forum.%2A",
            JetstreamUrl.Subscribe("ws://127.0.0.1:6008/subscribe?x=1&compress=true", compress: false).ToString());
        Assert.Equal(1_783_175_885_085_434, JetstreamSource.Rewound(1_783_175_888_085_434, TimeSpan.FromSeconds(3)));
        Assert.Null(JetstreamSource.Rewound(null, TimeSpan.FromSeconds(3)));
    }

    private static string Describe(StreamEvent e) => e switch
    {
        CommitEvent c => $"commit {c.Seq} {c.Repo} {c.Rev} {c.Time:O} {c.OtherOps} {string.Join(',', c.ForumOps)}",
        _ => e.ToString(),
    };
}
