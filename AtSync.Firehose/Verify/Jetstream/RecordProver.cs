using AtSync.AtProto.Cids;
using AtSync.AtProto.Identity;
using AtSync.AtProto.Sync;
using AtSync.AtProto.Syntax;
using AtSync.Core.Forum;
using AtSync.Firehose.Events;

namespace AtSync.Firehose.Verify.Jetstream;

/// <summary>
/// Proves one Jetstream commit against its author's repository: the DID document (the Firehose's shared resolver, as for
/// signatures) names the PDS and the <c>#atproto</c> key; <c>getRecord</c> (<see cref="PdsRecordClient"/>) returns the signed
/// commit and the MST path to the key; <see cref="RecordProof"/> checks hashes, signature and path. A create/update is
/// proven when the proven CID is the event's (and the event's rev is not after the signed commit); a delete when the PDS
/// proves the key absent or answers <c>RecordNotFound</c>. A signature that fails with a cached document is checked once
/// more with a fresh one (key rotation).
/// </summary>
public sealed class RecordProver(IDidResolver resolver, PdsRecordClient pds)
{
    public async Task<RecordCheck> CheckAsync(CommitEvent commit, CancellationToken ct)
    {
        var op = commit.ForumOps[0];
        // The event contradicts itself (its record JSON is not its CID): the Jetstream altered it; nothing to ask.
        if (op.Problem == Ingest.Jetstream.JetstreamEventDecoder.RecordHashMismatch) return RecordCheck.Refused(RecordRefusals.Tampered);
        if (!Did.TryParse(commit.Repo, out var did)) return RecordCheck.Refused(RecordRefusals.AuthorUnresolved);
        DidDocument document;
        try
        {
            document = await resolver.ResolveAsync(did, ct);
        }
        catch (DidResolutionException ex)
        {
            return ex.Error == DidResolutionError.Unavailable
                ? RecordCheck.Unavailable("DID directory unavailable")
                : RecordCheck.Refused(RecordRefusals.AuthorUnresolved);
        }
        if (document.PdsEndpoint is not { } endpoint) return RecordCheck.Refused(RecordRefusals.NoPds);
        var fetch = await pds.GetRecordAsync(endpoint, commit.Repo, op.Collection, op.Rkey, ct);
        switch (fetch.Status)
        {
            case RecordFetchStatus.Unavailable:
                return RecordCheck.Unavailable(fetch.Reason);
            case RecordFetchStatus.Refused:
                return RecordCheck.Refused(fetch.Reason);
            case RecordFetchStatus.NotFound:
                return op.Action == ForumOp.Delete ? new RecordCheck(RecordCheckStatus.Proven, "", commit) : RecordCheck.Refused(RecordRefusals.NotFound);
        }

        var proof = Verify(fetch.Car!, commit.Repo, document, op);
        if (proof.Reason == RepoRejection.BadSignature)
        {
            try
            {
                document = await resolver.RefreshAsync(did, ct);
            }
            catch (DidResolutionException)
            {
                return RecordCheck.Refused(RecordRefusals.Proof(RepoRejection.BadSignature));
            }
            proof = Verify(fetch.Car!, commit.Repo, document, op);
        }
        if (!proof.IsVerified)
        {
            return RecordCheck.Refused(document.SigningKey is null ? RecordRefusals.NoKey : RecordRefusals.Proof(proof.Reason));
        }
        return Judge(commit, op, proof);
    }

    private static RecordProofResult Verify(byte[] car, string did, DidDocument document, ForumOp op) =>
        RecordProof.Verify(car, did, document.SigningKey, op.Collection, op.Rkey);

    /// <summary>What a verified proof says about the event.</summary>
    public static RecordCheck Judge(CommitEvent commit, ForumOp op, RecordProofResult proof)
    {
        if (op.Action == ForumOp.Delete)
        {
            return proof.ProvesAbsence ? new RecordCheck(RecordCheckStatus.Proven, "", commit) : RecordCheck.Refused(RecordRefusals.StillPresent);
        }
        if (proof.RecordCid is not { } proven) return RecordCheck.Refused(RecordRefusals.NotFound);
        if (!Cid.TryParse(op.Cid, out var claimed) || claimed != proven) return RecordCheck.Refused(RecordRefusals.CidMismatch);
        if (string.CompareOrdinal(commit.Rev, proof.Rev) > 0) return RecordCheck.Refused(RecordRefusals.RevAhead);
        ForumPostRecord? post = null;
        string? problem = null;
        if (op.Collection == ForumLexicon.Post) ForumPostRecordCbor.TryRead(proof.Record!.Value, out post, out problem);
        var provenOp = new ForumOp(op.Action, op.Collection, op.Rkey, proven.ToString(), post, problem);
        return new RecordCheck(RecordCheckStatus.Proven, "", commit with { ForumOps = [provenOp] });
    }
}
