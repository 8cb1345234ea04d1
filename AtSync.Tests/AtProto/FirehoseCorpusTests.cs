using System.Text.Json.Nodes;
using AtSync.AtProto.Car;
using AtSync.AtProto.Cids;
using AtSync.AtProto.DagCbor;
using AtSync.AtProto.EventStream;
using AtSync.AtProto.Json;
using AtSync.Tests.Infrastructure;

namespace AtSync.Tests.AtProto;

/// <summary>The 150 captured relay frames against the manifest and Jetstream's independent rendering.</summary>
public class FirehoseCorpusTests
{
    private static readonly Lazy<IReadOnlyList<FirehoseEvent>> Events = new(() =>
        CorpusFiles.FirehoseFrames().Select(f => FrameDecoder.DecodeRepoFrame(f)).ToList());

    private static JsonObject Manifest => JsonNode.Parse(CorpusFiles.ReadText("firehose", "manifest.json"))!.AsObject();

    [Fact]
    public void All_frames_decode_with_the_manifest_counts()
    {
        var frames = CorpusFiles.FirehoseFrames();
        var manifest = Manifest;
        Assert.Equal(manifest["frames"]!.GetValue<int>(), frames.Count);
        Assert.Equal(150, frames.Count);

        var events = Events.Value;
        var commits = events.OfType<CommitEvent>().ToList();
        Assert.Equal(manifest["commit_frames"]!.GetValue<int>(), commits.Count);
        Assert.Equal(148, commits.Count);
        Assert.Equal(manifest["identity"]!.GetValue<int>(), events.OfType<IdentityEvent>().Count());
        Assert.Equal(manifest["account"]!.GetValue<int>(), events.OfType<AccountEvent>().Count());
        Assert.Equal(events.Count, commits.Count + 2);

        var ops = commits.SelectMany(c => c.Ops).ToList();
        Assert.Equal(manifest["creates"]!.GetValue<int>(), ops.Count(o => o.Action == RepoAction.Create));
        Assert.Equal(manifest["updates"]!.GetValue<int>(), ops.Count(o => o.Action == RepoAction.Update));
        Assert.Equal(manifest["deletes"]!.GetValue<int>(), ops.Count(o => o.Action == RepoAction.Delete));
        Assert.Equal(144, ops.Count(o => o.Action == RepoAction.Create));

        // Sequence numbers are the contiguous capture window.
        var seqs = events.Select(e => e.Sequence!.Value).Order().ToList();
        Assert.Equal(manifest["seq_first"]!.GetValue<long>(), seqs[0]);
        Assert.Equal(manifest["seq_last"]!.GetValue<long>(), seqs[^1]);
        Assert.Equal(manifest["commit_dids"]!.AsArray().Select(n => n!.GetValue<string>()).Order(), commits.Select(c => c.Repo).Distinct().Order());
    }

    [Fact]
    public void Every_car_block_hashes_to_its_cid_and_is_strict_dag_cbor()
    {
        var blocks = 0;
        foreach (var commit in Events.Value.OfType<CommitEvent>())
        {
            Assert.True(commit.Blocks.BlocksVerified);
            Assert.Equal([commit.Commit], commit.Blocks.Roots);
            foreach (var block in commit.Blocks.Blocks)
            {
                Assert.True(block.Cid.Matches(block.Data.Span), $"{commit.Seq} {block.Cid}");
                Assert.Equal(block.Cid, Cid.Compute(block.Data.Span, block.Cid.Codec));
                DagCborReader.Validate(block.Data.Span);
                blocks++;
            }

            commit.Blocks.VerifyAllBlocks();
        }

        Assert.True(blocks > 148 * 2, $"only {blocks} blocks");
    }

    [Fact]
    public void Every_block_and_frame_round_trips_through_the_generic_model()
    {
        var count = 0;
        foreach (var frame in CorpusFiles.FirehoseFrames())
        {
            // header + body, each decoded generically and re-encoded, give back the frame byte for byte.
            var reader = new DagCborReader(frame.AsMemory());
            var header = reader.ReadValue();
            var body = reader.ReadValue();
            reader.EnsureEnd();
            var writer = new DagCborWriter();
            writer.WriteValue(header);
            writer.WriteValue(body);
            Assert.Equal(frame, writer.ToArray());
        }

        foreach (var commit in Events.Value.OfType<CommitEvent>())
        {
            foreach (var block in commit.Blocks.Blocks)
            {
                var value = DagCborReader.Decode(block.Data);
                Assert.True(block.Data.Span.SequenceEqual(DagCborWriter.Encode(value)), block.Cid.ToString());
                count++;
            }
        }

        Assert.True(count > 300);
    }

    [Fact]
    public void Decoded_ops_and_records_equal_jetstream_v1()
    {
        var lines = File.ReadAllLines(CorpusFiles.Path("firehose", "expected_v1.jsonl"));
        Assert.Equal(Manifest["v1_events"]!.GetValue<int>(), lines.Length);
        var commits = Events.Value.OfType<CommitEvent>().ToList();
        var matchedCommitOps = 0;
        var kinds = new Dictionary<string, int>();
        foreach (var line in lines)
        {
            var expected = JsonNode.Parse(line)!.AsObject();
            var kind = expected["kind"]!.GetValue<string>();
            kinds[kind] = kinds.GetValueOrDefault(kind) + 1;
            var did = expected["did"]!.GetValue<string>();
            switch (kind)
            {
                case "commit":
                    var c = expected["commit"]!.AsObject();
                    var rev = c["rev"]!.GetValue<string>();
                    var collection = c["collection"]!.GetValue<string>();
                    var rkey = c["rkey"]!.GetValue<string>();
                    var commit = Assert.Single(commits, e => e.Repo == did && e.Rev == rev);
                    var op = Assert.Single(commit.Ops, o => o.Collection == collection && o.RecordKey == rkey);
                    Assert.Equal(c["operation"]!.GetValue<string>(), op.Action.ToString().ToLowerInvariant());
                    Assert.Equal($"{collection}/{rkey}", op.Path);
                    if (op.Action == RepoAction.Delete)
                    {
                        Assert.Null(op.Cid);
                        Assert.False(commit.TryGetRecord(op, out _));
                        Assert.Null(c["record"]);
                    }
                    else
                    {
                        Assert.Equal(c["cid"]!.GetValue<string>(), op.Cid!.Value.ToString());
                        Assert.True(commit.TryGetRecord(op, out var record), op.Path);
                        var rendered = JsonNode.Parse(AtProtoJson.ToJsonUtf8(record));
                        Assert.True(JsonNode.DeepEquals(c["record"], rendered), $"{op.Path}: {rendered!.ToJsonString()}");
                    }

                    matchedCommitOps++;
                    break;
                case "identity":
                    var identity = Assert.Single(Events.Value.OfType<IdentityEvent>());
                    var ei = expected["identity"]!;
                    Assert.Equal(did, identity.Did);
                    Assert.Equal(ei["did"]!.GetValue<string>(), identity.Did);
                    Assert.Equal(ei["seq"]!.GetValue<long>(), identity.Seq);
                    Assert.Equal(ei["time"]!.GetValue<string>(), identity.Time);
                    Assert.Equal(ei["handle"]?.GetValue<string>(), identity.Handle);
                    break;
                case "account":
                    var account = Assert.Single(Events.Value.OfType<AccountEvent>());
                    var ea = expected["account"]!;
                    Assert.Equal(did, account.Did);
                    Assert.Equal(ea["seq"]!.GetValue<long>(), account.Seq);
                    Assert.Equal(ea["time"]!.GetValue<string>(), account.Time);
                    Assert.Equal(ea["active"]!.GetValue<bool>(), account.Active);
                    Assert.Equal(ea["status"]?.GetValue<string>(), account.Status);
                    break;
                default:
                    Assert.Fail($"unexpected kind {kind}");
                    break;
            }
        }

        Assert.Equal(150, matchedCommitOps);
        Assert.Equal(commits.Sum(c => c.Ops.Count), matchedCommitOps);
        Assert.Equal(1, kinds["identity"]);
        Assert.Equal(1, kinds["account"]);
    }

    [Fact]
    public void Commit_blocks_expose_fields_signature_and_unsigned_bytes()
    {
        foreach (var commit in Events.Value.OfType<CommitEvent>())
        {
            var block = commit.ReadCommitBlock();
            Assert.Equal(commit.Repo, block.Did);
            Assert.Equal(commit.Rev, block.Rev);
            Assert.Equal(3, block.Version);
            Assert.Equal(64, block.Signature.Length);
            Assert.True(commit.Blocks.Contains(block.Data) || commit.Ops.All(o => o.Action == RepoAction.Delete), "MST root present");

            // Independent derivation: the generic map minus 'sig', re-encoded canonically.
            var map = DagCborReader.Decode(block.Bytes).AsMap();
            var entries = new List<KeyValuePair<string, DagCborValue>>();
            for (var i = 0; i < map.Count; i++)
            {
                if (map.GetKey(i) != "sig")
                {
                    entries.Add(new(map.GetKey(i), map.GetValue(i)));
                }
            }

            var expected = DagCborWriter.Encode(DagCborValue.FromMap(DagCborMap.Create(entries)));
            Assert.Equal(expected, block.GetUnsignedBytes());
            Assert.Equal(expected.Length, block.UnsignedLength);
            Assert.True(map.TryGetValue("sig"u8, out var sig));
            Assert.True(sig.AsBytes().Span.SequenceEqual(block.Signature.Span));

            // The seam: a verifier sees the commit block.
            var verifier = new RecordingVerifier();
            Assert.True(commit.VerifySignature(verifier));
            Assert.Equal(commit.Repo, verifier.Seen!.Did);
        }
    }

    [Fact]
    public void Typed_encoder_round_trips_every_corpus_event()
    {
        var identical = 0;
        var frames = CorpusFiles.FirehoseFrames();
        for (var i = 0; i < frames.Count; i++)
        {
            var original = Events.Value[i];
            var encoded = FrameEncoder.Encode(original);
            var again = FrameDecoder.DecodeRepoFrame(encoded);
            switch (original)
            {
                case CommitEvent c:
                    var d = Assert.IsType<CommitEvent>(again);
                    Assert.Equal((c.Seq, c.Repo, c.Commit, c.Rev, c.Since, c.PrevData, c.Time), (d.Seq, d.Repo, d.Commit, d.Rev, d.Since, d.PrevData, d.Time));
                    Assert.True(c.Blocks.Bytes.Span.SequenceEqual(d.Blocks.Bytes.Span));
                    Assert.Equal(c.Ops.Select(o => o.ToString() + o.Prev), d.Ops.Select(o => o.ToString() + o.Prev));
                    break;
                default:
                    Assert.Equal(original, again);
                    break;
            }

            if (encoded.AsSpan().SequenceEqual(frames[i]))
            {
                identical++;
            }
        }

        // Relays write the deprecated fields exactly as the encoder does, so the frames come back byte for byte.
        Assert.Equal(frames.Count, identical);
    }

    private sealed class RecordingVerifier : ICommitVerifier
    {
        public CommitBlock? Seen { get; private set; }

        public bool Verify(CommitBlock commit)
        {
            Seen = commit;
            return true;
        }
    }
}
