using System.Text;
using AtSync.AtProto.Crypto;
using AtSync.AtProto.Identity;
using AtSync.Core.Forum;
using AtSync.Firehose;
using AtSync.Firehose.Events;
using AtSync.Firehose.Ingest.Jetstream;
using AtSync.Firehose.Verify;
using AtSync.Firehose.Verify.Jetstream;
using AtSync.Testing;
using AtSync.Testing.Synthetic;
using Microsoft.Extensions.Options;

namespace AtSync.Tests.Firehose.Jetstream;

/// <summary>
/// Each Jetstream forum event proven against its author's repository: a loopback PLC directory names the loopback PDS,
/// which answers <c>getRecord</c> from repositories built and signed by the project's own writers. Every kind of lie is
/// refused with its reason; an unreachable PDS is a wait, not a refusal (JetstreamParkingTests: its author is parked, durably).
/// </summary>
public sealed class JetstreamVerificationTests : IAsyncLifetime
{
    private const string BoardUri = "at://did:plc:forumforumforumforum0001/net.vza.forum.board/3kboard";
    private static readonly StrongRef Board = new(BoardUri, "bafyreib2rxk3rybk3aobmv5cjuql3bm2twh4jo5uxgf5vadynilrvz6qcy");
    private static readonly DateTimeOffset T0 = new(2026, 7, 4, 15, 0, 0, TimeSpan.Zero);
    private static readonly string Alice = ForumNetwork.Author(0);
    private static readonly string Bob = ForumNetwork.Author(1);

    private readonly SigningKey _key = SigningKey.Generate(KeyCurve.Secp256k1);
    private readonly JetstreamEventDecoder _decoder = new(1 << 20);
    private ForumRepositories _repos = null!;
    private LoopbackPlc _plc = null!;
    private LoopbackRecordPds _pds = null!;
    private long _seq;

    public async Task InitializeAsync()
    {
        _repos = new ForumRepositories(_key);
        _plc = await LoopbackPlc.StartAsync(_key.PublicKey);
        _pds = await LoopbackRecordPds.StartAsync(_repos);
        _plc.DefaultPds = _pds.BaseUri;
    }

    public async Task DisposeAsync()
    {
        await _pds.DisposeAsync();
        await _plc.DisposeAsync();
        _key.Dispose();
    }

    private RecordProver Prover(params string[] allowedHosts)
    {
        var options = Options.Create(new JetstreamOptions { AllowedPdsHosts = allowedHosts, RecordFetchTimeout = TimeSpan.FromSeconds(5) });
        var resolver = new DidResolver(new HttpClient(), new DidResolverOptions { PlcDirectory = _plc.BaseUri });
        return new RecordProver(resolver, new PdsRecordClient(new HttpClient(IdentityHttpHandler.Create(allowedHosts)), options));
    }

    private RecordProver Prover() => Prover("127.0.0.1");

    private static ForumPostRecord Topic(string text) => new(text, "2026-07-04T14:59:00.000Z", Board, "Subject", null, null, null);

    private ForumRepositories.Written Write(string did, string rkey, ForumPostRecord? record) =>
        _repos.Commit(++_seq, did, T0.AddSeconds(_seq), ($"{ForumLexicon.Post}/{rkey}", record is null ? null : ForumFrameFactory.PostRecord(record)));

    private CommitEvent Event(byte[] json) => Assert.IsType<CommitEvent>(_decoder.Decode(json));

    private CommitEvent Event(ForumRepositories.Written written) => Event(Assert.Single(written.JetstreamEvents));

    /// <summary>A self-consistent Jetstream event for a record the author never wrote (its JSON hashes to its CID).</summary>
    private CommitEvent Fabricated(string did, string rkey, ForumPostRecord record, string rev)
    {
        var bytes = ForumFrameFactory.PostRecord(record);
        var op = new AtSync.AtProto.EventStream.RepoOp(AtSync.AtProto.EventStream.RepoAction.Create, $"{ForumLexicon.Post}/{rkey}",
            AtSync.AtProto.Cids.Cid.ForDagCbor(bytes));
        return Event(JetstreamEvents.Commit(did, 1_783_175_888_000_000, rev, op, bytes));
    }

    [Fact]
    public async Task A_record_the_pds_proves_is_applied_with_the_proven_record()
    {
        var record = Topic("Proven text");
        var written = Write(Alice, "3ktopic00001", record);
        var check = await Prover().CheckAsync(Event(written), CancellationToken.None);
        Assert.Equal(RecordCheckStatus.Proven, check.Status);
        var op = Assert.Single(check.Commit!.ForumOps);
        Assert.Equal(record, op.Post);
        Assert.Equal(written.Cids[0], op.Cid);
        Assert.Equal([$"{Alice}/{ForumLexicon.Post}/3ktopic00001"], _pds.Requests);
    }

    [Fact]
    public async Task A_tampered_record_a_wrong_cid_a_proof_for_another_record_and_a_missing_record_are_refused_by_reason()
    {
        var prover = Prover();
        var written = Write(Alice, "3ktopic00001", Topic("The real text"));
        Write(Alice, "3ktopic00002", Topic("Another record"));
        var json = Encoding.UTF8.GetString(Assert.Single(written.JetstreamEvents));

        // Tampered: the JSON no longer hashes to the CID it carries; the PDS is not even asked.
        var tampered = Event(Encoding.UTF8.GetBytes(json.Replace("The real text", "The fake text", StringComparison.Ordinal)));
        Assert.Equal(RecordRefusals.Tampered, (await prover.CheckAsync(tampered, CancellationToken.None)).Reason);
        Assert.Empty(_pds.Requests);

        // Wrong CID: a consistent record and CID that the author's repository does not hold at that key.
        var rev = Event(written).Rev;
        var wrong = Fabricated(Alice, "3ktopic00001", Topic("Text the author never wrote"), rev);
        Assert.Equal(RecordRefusals.CidMismatch, (await prover.CheckAsync(wrong, CancellationToken.None)).Reason);

        // The PDS (or someone in between) answers with the proof of another record.
        _pds.Faults[$"at://{Alice}/{ForumLexicon.Post}/3ktopic00001"] = RecordFault.OtherRecord;
        var other = await prover.CheckAsync(Event(written), CancellationToken.None);
        Assert.Equal(RecordCheckStatus.Refused, other.Status);
        Assert.StartsWith("proof_", other.Reason, StringComparison.Ordinal);

        // A tampered block in the CAR.
        _pds.Faults[$"at://{Alice}/{ForumLexicon.Post}/3ktopic00001"] = RecordFault.TamperedBlock;
        Assert.Equal("proof_block_hash_mismatch", (await prover.CheckAsync(Event(written), CancellationToken.None)).Reason);
        _pds.Faults.Clear();

        // A record the repository does not have: RecordNotFound, or a proof of its absence.
        var missing = Fabricated(Alice, "3ktopic00099", Topic("Never written"), rev);
        Assert.Equal(RecordRefusals.NotFound, (await prover.CheckAsync(missing, CancellationToken.None)).Reason);
        _pds.ProveAbsence = true;
        Assert.Equal(RecordRefusals.NotFound, (await prover.CheckAsync(missing, CancellationToken.None)).Reason);

        // Signed with another key than the DID document's.
        using var stranger = SigningKey.Generate(KeyCurve.Secp256k1);
        _plc.Keys[Alice] = stranger.PublicKey;
        Assert.Equal("proof_bad_signature", (await Prover().CheckAsync(Event(written), CancellationToken.None)).Reason);

        // An event whose rev is after the PDS's signed head.
        _plc.Keys.Clear();
        var ahead = Event(written) with { Rev = "7zzzzzzzzzzzz" };
        Assert.Equal(RecordRefusals.RevAhead, (await Prover().CheckAsync(ahead, CancellationToken.None)).Reason);
    }

    [Fact]
    public async Task A_delete_is_confirmed_only_when_the_record_is_gone()
    {
        var prover = Prover();
        Write(Bob, "3kreply00001", Topic("to be deleted"));
        Write(Bob, "3kreply00002", Topic("stays"));
        var deleted = Write(Bob, "3kreply00001", null);
        var deleteEvent = Event(deleted);
        Assert.Equal(ForumOp.Delete, Assert.Single(deleteEvent.ForumOps).Action);
        Assert.Equal(RecordCheckStatus.Proven, (await prover.CheckAsync(deleteEvent, CancellationToken.None)).Status);
        _pds.ProveAbsence = true;
        Assert.Equal(RecordCheckStatus.Proven, (await prover.CheckAsync(deleteEvent, CancellationToken.None)).Status);

        var stillThere = deleteEvent with { ForumOps = [deleteEvent.ForumOps[0] with { Rkey = "3kreply00002" }] };
        Assert.Equal(RecordRefusals.StillPresent, (await prover.CheckAsync(stillThere, CancellationToken.None)).Reason);
    }

    [Fact]
    public async Task A_pds_on_a_private_address_is_never_contacted()
    {
        var written = Write(Alice, "3ktopic00001", Topic("x"));
        var check = await Prover([]).CheckAsync(Event(written), CancellationToken.None);
        Assert.Equal(("pds_not_public", RecordCheckStatus.Refused), (check.Reason, check.Status));
        Assert.Empty(_pds.Requests);
    }
}
