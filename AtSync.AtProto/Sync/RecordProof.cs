using AtSync.AtProto.Car;
using AtSync.AtProto.Cids;
using AtSync.AtProto.Crypto;
using AtSync.AtProto.DagCbor;
using AtSync.AtProto.Mst;

namespace AtSync.AtProto.Sync;

/// <summary>What a verified <c>getRecord</c> proof shows: the record's CID and value at the signed commit, or its absence.</summary>
public sealed record RecordProofResult(RepoRejection Reason, string? Rev = null, Cid? RecordCid = null, DagCborValue? Record = null)
{
    public bool IsVerified => Reason == RepoRejection.None;

    /// <summary>Verified, and the record is not in the repository.</summary>
    public bool ProvesAbsence => IsVerified && RecordCid is null;
}

/// <summary>
/// Verifies a <c>com.atproto.sync.getRecord</c> CAR: the signed commit (root), the MST nodes on the path to the key,
/// and the record block. The path nodes prove the record's CID — or that no record is at the key.
/// </summary>
public static class RecordProof
{
    private static readonly CarReadOptions ProofCarOptions = new() { MaxCarLength = 4 * 1024 * 1024, MaxBlocks = 1024, VerifyBlocks = false };

    /// <param name="expected">The CID the record must have (null: any, or absence).</param>
    public static RecordProofResult Verify(ReadOnlyMemory<byte> car, string did, PublicKey? key, string collection, string recordKey, Cid? expected = null)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentNullException.ThrowIfNull(recordKey);
        var rejection = SignedCommitReader.TryRead(car, did, key, ProofCarOptions, out var file, out var commit);
        if (rejection != RepoRejection.None)
        {
            return new RecordProofResult(rejection);
        }

        var path = System.Text.Encoding.UTF8.GetBytes($"{collection}/{recordKey}");
        if (!MstKey.IsValid(path))
        {
            return new RecordProofResult(RepoRejection.MalformedRecord);
        }

        Cid? proven;
        try
        {
            proven = MstTree.Load(commit.Data, file.TryGetBlock, verifyBlocks: false, maxNodes: file.BlockCount).Get(path);
        }
        catch (MstFormatException)
        {
            return new RecordProofResult(RepoRejection.MalformedTree);
        }
        catch (MstPartialTreeException)
        {
            return new RecordProofResult(RepoRejection.MissingBlock);
        }

        if (expected is { } want && proven != want)
        {
            return new RecordProofResult(RepoRejection.UnexpectedValue, commit.Rev, proven);
        }

        if (proven is not { } cid)
        {
            return new RecordProofResult(RepoRejection.None, commit.Rev);
        }

        if (!file.TryGetBlock(cid, out var block))
        {
            return new RecordProofResult(RepoRejection.MissingBlock, commit.Rev, cid);
        }

        return DagCborReader.TryDecode(block, out var value, out _)
            ? new RecordProofResult(RepoRejection.None, commit.Rev, cid, value)
            : new RecordProofResult(RepoRejection.MalformedRecord, commit.Rev, cid);
    }
}
