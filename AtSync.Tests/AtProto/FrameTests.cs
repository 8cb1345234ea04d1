using AtSync.AtProto;
using AtSync.AtProto.Car;
using AtSync.AtProto.Cids;
using AtSync.AtProto.DagCbor;
using AtSync.AtProto.EventStream;
using AtSync.AtProto.Json;

namespace AtSync.Tests.AtProto;

/// <summary>Frames built with the encoder (as a loopback relay or labeler would send them).</summary>
public class FrameTests
{
    private const string Did = "did:plc:ewvi7nxzyoun6zhxrhs64oiz";

    [Fact]
    public void Commit_frame_exposes_ops_records_and_commit_block()
    {
        var record = AtProtoJson.FromJson("""{"$type":"net.vza.forum.post","text":"[b]hi[/b]","createdAt":"2026-07-04T14:38:08.999Z"}""");
        var recordBytes = DagCborWriter.Encode(record);
        var recordCid = Cid.ForDagCbor(recordBytes);
        var mstRoot = Cid.ForDagCbor([0xa0]);
        var commitBytes = CommitBlock.Encode(Did, 3, mstRoot, "3mptbypluud2a", null, new byte[64]);
        var commitCid = Cid.ForDagCbor(commitBytes);
        var car = CarReader.Read(CarWriter.WriteDagCborBlocks([commitCid], commitBytes, recordBytes));
        var deletedPrev = Cid.ForDagCbor([0xf6]);
        var evt = new CommitEvent
        {
            Seq = 42,
            Repo = Did,
            Commit = commitCid,
            Rev = "3mptbypluud2a",
            Since = null,
            Blocks = car,
            Ops = [new RepoOp(RepoAction.Create, "net.vza.forum.post/3mptbyplj5d2a", recordCid), new RepoOp(RepoAction.Delete, "net.vza.forum.post/3aaa", null, deletedPrev)],
            PrevData = mstRoot,
            Time = "2026-07-04T14:38:09.000Z",
        };

        var decoded = Assert.IsType<CommitEvent>(FrameDecoder.DecodeRepoFrame(FrameEncoder.Encode(evt)));
        Assert.Equal(42, decoded.Sequence);
        Assert.Equal(mstRoot, decoded.PrevData);
        Assert.Null(decoded.Since);
        var create = decoded.Ops[0];
        Assert.Equal(("net.vza.forum.post", "3mptbyplj5d2a", RepoAction.Create), (create.Collection, create.RecordKey, create.Action));
        Assert.True(create.IsInCollection("net.vza.forum.post"));
        Assert.True(decoded.TryGetRecord(create, out var got));
        Assert.True(DagCborValue.DeepEquals(record, got));
        Assert.Equal("[b]hi[/b]", got.AsMap().TryGetString("text"u8, out var text) ? text : null);
        var delete = decoded.Ops[1];
        Assert.Equal(deletedPrev, delete.Prev);
        Assert.False(decoded.TryGetRecord(delete, out _));

        var commit = decoded.ReadCommitBlock();
        Assert.Equal((Did, 3L, mstRoot, (Cid?)null), (commit.Did, commit.Version, commit.Data, commit.Prev));
        Assert.Equal(CommitBlock.Encode(Did, 3, mstRoot, "3mptbypluud2a", null, default, signed: false), commit.GetUnsignedBytes());
    }

    [Fact]
    public void Record_blocks_are_cid_checked_when_the_car_was_not_verified()
    {
        var recordBytes = DagCborWriter.Encode(DagCborValue.FromMap(DagCborMap.Create(("text", DagCborValue.FromString("x")))));
        var claimed = Cid.ForDagCbor([0xa0]);
        var commitBytes = CommitBlock.Encode(Did, 3, claimed, "3a", null, new byte[64]);
        var commitCid = Cid.ForDagCbor(commitBytes);
        var car = CarWriter.Write([commitCid], [new CarBlock(commitCid, commitBytes), new CarBlock(claimed, recordBytes)]);
        var evt = new CommitEvent
        {
            Seq = 1, Repo = Did, Commit = commitCid, Rev = "3a", Blocks = CarReader.Read(car, CarReadOptions.Default with { VerifyBlocks = false }),
            Ops = [new RepoOp(RepoAction.Create, "a.b.c/1", claimed)], Time = "t",
        };
        var frame = FrameEncoder.Encode(evt);

        Assert.Throws<CarException>(() => FrameDecoder.DecodeRepoFrame(frame));
        var lenient = FrameDecoder.DecodeRepoFrame(frame, FrameDecodeOptions.Default with { Car = CarReadOptions.Default with { VerifyBlocks = false } });
        var commit = Assert.IsType<CommitEvent>(lenient);
        Assert.Throws<CarException>(() => commit.TryGetRecord(commit.Ops[0], out _));
    }

    [Fact]
    public void Identity_account_sync_and_info_frames_round_trip()
    {
        var commitBytes = CommitBlock.Encode(Did, 3, Cid.ForDagCbor([0xa0]), "3b", null, new byte[64]);
        var commitCid = Cid.ForDagCbor(commitBytes);
        FirehoseEvent[] events =
        [
            new IdentityEvent { Seq = 1, Did = Did, Time = "2026-01-01T00:00:00Z", Handle = "alice.example.com" },
            new IdentityEvent { Seq = 2, Did = Did, Time = "2026-01-01T00:00:00Z" },
            new AccountEvent { Seq = 3, Did = Did, Time = "2026-01-01T00:00:00Z", Active = false, Status = "takendown" },
            new InfoEvent { Name = "OutdatedCursor", Message = "cursor too old" },
            new ErrorEvent { Error = "FutureCursor", Message = "cursor in the future" },
            new ErrorEvent { Error = "ConsumerTooSlow" },
        ];
        foreach (var evt in events)
        {
            Assert.Equal(evt, FrameDecoder.DecodeRepoFrame(FrameEncoder.Encode(evt)));
        }

        var sync = new SyncEvent { Seq = 9, Did = Did, Rev = "3b", Time = "t", Blocks = CarReader.Read(CarWriter.WriteDagCborBlocks([commitCid], commitBytes)) };
        var decoded = Assert.IsType<SyncEvent>(FrameDecoder.DecodeRepoFrame(FrameEncoder.Encode(sync)));
        Assert.Equal((9L, Did, "3b"), (decoded.Seq, decoded.Did, decoded.Rev));
        Assert.Equal("3b", decoded.ReadCommitBlock().Rev);
    }

    [Fact]
    public void Unknown_message_types_are_not_fatal()
    {
        var body = DagCborWriter.Encode(DagCborValue.FromMap(DagCborMap.Create(("seq", DagCborValue.FromInt64(5)))));
        var frame = FrameEncoder.Encode(new UnknownEvent { Type = "#somethingNew", Body = body });
        var evt = Assert.IsType<UnknownEvent>(FrameDecoder.DecodeRepoFrame(frame));
        Assert.Equal("#somethingNew", evt.Type);
        Assert.Equal(body, evt.Body.ToArray());
        Assert.Null(evt.Sequence);
        Assert.IsType<UnknownEvent>(FrameDecoder.DecodeLabelFrame(FrameEncoder.Encode(new UnknownEvent { Type = "#commit", Body = body })));
    }

    [Fact]
    public void Label_frames_round_trip()
    {
        var labels = new LabelsEvent
        {
            Seq = 77,
            Labels =
            [
                new Label { Ver = 1, Src = "did:plc:labeler", Uri = "at://did:plc:x/net.vza.forum.post/3a", Cid = "bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2a", Val = "spam", Cts = "2026-01-01T00:00:00Z", Exp = "2026-02-01T00:00:00Z", Sig = new byte[] { 1, 2, 3 } },
                new Label { Src = "did:plc:labeler", Uri = "did:plc:x", Val = "!hide", Neg = true, Cts = "2026-01-01T00:00:00Z" },
            ],
        };
        var decoded = Assert.IsType<LabelsEvent>(FrameDecoder.DecodeLabelFrame(FrameEncoder.Encode(labels)));
        Assert.Equal(77, decoded.Seq);
        Assert.Equal(2, decoded.Labels.Count);
        var first = decoded.Labels[0];
        Assert.Equal((1L, "spam", "2026-02-01T00:00:00Z", false), (first.Ver!.Value, first.Val, first.Exp, first.Neg));
        Assert.Equal(labels.Labels[0].Cid, first.Cid);
        Assert.Equal([1, 2, 3], first.Sig!.Value.ToArray());
        var second = decoded.Labels[1];
        Assert.True(second.Neg);
        Assert.Null(second.Ver);
        Assert.Null(second.Sig);
        Assert.Equal("did:plc:x", second.Uri);

        var info = new InfoEvent { Name = "OutdatedCursor" };
        Assert.Equal(info, FrameDecoder.DecodeLabelFrame(FrameEncoder.Encode(info)));
    }

    [Theory]
    [InlineData("a1626f7002", "unknown frame op 2")]               // {op: 2}
    [InlineData("a16174672363636f6d6d6974", "no 'op'")]           // {t: "#commit"}
    [InlineData("a1626f7001a0", "no 't'")]                        // {op: 1} {}
    [InlineData("a2617468236163636f756e74626f7001a0", "missing 'seq'")] // #account with empty body
    [InlineData("a1626f7020a0", "missing 'error'")]                // {op: -1} {}
    public void Malformed_frames_raise_frame_format_errors(string hex, string reasonFragment)
    {
        var ex = Assert.Throws<FrameFormatException>(() => FrameDecoder.DecodeRepoFrame(Convert.FromHexString(hex)));
        Assert.Contains(reasonFragment, ex.Reason);
    }

    [Fact]
    public void Too_many_ops_are_rejected_before_reading_them()
    {
        var ops = Enumerable.Range(0, 201).Select(i => new RepoOp(RepoAction.Delete, $"a.b.c/{i}", null)).ToArray();
        var commitBytes = CommitBlock.Encode(Did, 3, Cid.ForDagCbor([0xa0]), "3a", null, new byte[64]);
        var commitCid = Cid.ForDagCbor(commitBytes);
        var evt = new CommitEvent
        {
            Seq = 1, Repo = Did, Commit = commitCid, Rev = "3a", Blocks = CarReader.Read(CarWriter.WriteDagCborBlocks([commitCid], commitBytes)),
            Ops = ops, Time = "t",
        };
        var ex = Assert.Throws<FrameFormatException>(() => FrameDecoder.DecodeRepoFrame(FrameEncoder.Encode(evt)));
        Assert.Contains("201 ops exceed the limit of 200", ex.Reason);
        Assert.IsAssignableFrom<AtProtoDataException>(ex);
    }

    [Theory]
    [InlineData("nocollection")]
    [InlineData("/rkey")]
    [InlineData("a.b.c/")]
    [InlineData("a.b.c/x/y")]
    public void Op_paths_must_be_collection_slash_rkey(string path)
    {
        Assert.Throws<FrameFormatException>(() => new RepoOp(RepoAction.Delete, path, null));
    }

    [Fact]
    public void Try_decode_reports_errors_as_values()
    {
        var evt = new IdentityEvent { Seq = 5, Did = Did, Time = "t" };
        var frame = FrameEncoder.Encode(evt);
        Assert.True(FrameDecoder.TryDecodeRepoFrame(frame, out var decoded, out var none));
        Assert.Equal(evt, decoded);
        Assert.Equal(default, none);

        // Truncated: caught by the structure scan, offset at the end of the input.
        Assert.False(FrameDecoder.TryDecodeRepoFrame(frame.AsMemory(0, frame.Length - 1), out var nothing, out var error));
        Assert.Null(nothing);
        Assert.Contains("exceeds the remaining input", error.Reason);

        // Trailing bytes after the body.
        Assert.False(FrameDecoder.TryDecodeRepoFrame(frame.Append((byte)0x01).ToArray(), out _, out error));
        Assert.Contains("trailing", error.Reason);
        Assert.Equal(frame.Length, error.Offset);

        // Well-formed CBOR, wrong shape: the typed decoder's error, as a value.
        Assert.False(FrameDecoder.TryDecodeRepoFrame(Convert.FromHexString("a1626f7002a0"), out _, out error));
        Assert.Contains("unknown frame op 2", error.Reason);

        Assert.False(FrameDecoder.TryDecodeRepoFrame(frame, out _, out error, FrameDecodeOptions.Default with { MaxFrameLength = 10 }));
        Assert.Contains("exceeds the limit", error.Reason);
    }
}
