using AtSync.AtProto.Crypto;
using AtSync.AtProto.EventStream;
using AtSync.AtProto.Mst;
using AtSync.AtProto.Syntax;

namespace AtSync.AtProto.Sync;

/// <summary>
/// Sync 1.1 verification of a <c>#commit</c>: the commit block is signed by the repository's key; its <c>rev</c>
/// follows the last verified one (when given); and undoing every op on the signed tree — loaded from the event's own
/// blocks, so only the nodes the change touches — gives back <c>prevData</c>, each op's <c>prev</c> CID being what it
/// restores. Expected failures come back as a <see cref="CommitVerdict"/> reason, never as exceptions.
/// </summary>
public static class CommitVerifier
{
    /// <summary>Verifies <paramref name="commit"/> with the author's <paramref name="key"/> (null: no key found, a <see cref="CommitRejection.BadSignature"/>).</summary>
    public static CommitVerdict Verify(CommitEvent commit, PublicKey? key, RepoSyncState? previous = null, ICommitSignatureVerifier? signatures = null)
    {
        ArgumentNullException.ThrowIfNull(commit);
        if (!TryReadCommitBlock(commit, out var block, out var rejection))
        {
            return rejection;
        }

        if (key is null || !CommitBlockVerifier.VerifyWith(block, key, signatures))
        {
            return CommitVerdict.Reject(CommitRejection.BadSignature, key is null ? "no signing key" : null);
        }

        return VerifyStructure(commit, block, previous);
    }

    /// <summary>Everything but the signature (for a commit whose signature was checked elsewhere, and for measurements).</summary>
    public static CommitVerdict VerifyStructure(CommitEvent commit, RepoSyncState? previous = null)
    {
        ArgumentNullException.ThrowIfNull(commit);
        return TryReadCommitBlock(commit, out var block, out var rejection) ? VerifyStructure(commit, block, previous) : rejection;
    }

    private static CommitVerdict VerifyStructure(CommitEvent commit, CommitBlock block, RepoSyncState? previous)
    {
        if (previous is not null)
        {
            if (string.CompareOrdinal(block.Rev, previous.Rev) <= 0)
            {
                return CommitVerdict.Reject(CommitRejection.StaleRev, $"rev {block.Rev} is not after {previous.Rev}");
            }

            if (commit.PrevData is { } pd && pd != previous.Data)
            {
                return CommitVerdict.Reject(CommitRejection.ChainBroken, "prevData is not the last verified root");
            }

            if (commit.Since is { } since && since != previous.Rev)
            {
                return CommitVerdict.Reject(CommitRejection.ChainBroken, $"since {since} is not the last verified rev {previous.Rev}");
            }
        }

        if (commit.PrevData is not { } prevData)
        {
            return CommitVerdict.Reject(CommitRejection.MissingPrevData);
        }

        var inverted = CommitInversion.Invert(commit, block.Data, prevData);
        return inverted.IsVerified ? CommitVerdict.Verified(block.Rev, block.Data) : inverted;
    }

    private static bool TryReadCommitBlock(CommitEvent commit, out CommitBlock block, out CommitVerdict rejection)
    {
        block = null!;
        rejection = default;
        if (!commit.Blocks.TryGetBlock(commit.Commit, out var bytes))
        {
            rejection = CommitVerdict.Reject(CommitRejection.MalformedCommit, "commit block not in the CAR");
            return false;
        }

        if (!commit.Blocks.IsBlockOf(commit.Commit, bytes.Span))
        {
            // A CAR read without hashing (as the Firehose reads frames) is checked block by block as it is used.
            rejection = CommitVerdict.Reject(CommitRejection.MalformedCommit, "commit block does not hash to its CID");
            return false;
        }

        try
        {
            block = CommitBlock.Decode(bytes);
        }
        catch (AtProtoDataException ex)
        {
            rejection = CommitVerdict.Reject(CommitRejection.MalformedCommit, ex.Reason);
            return false;
        }
        catch (InvalidOperationException ex)
        {
            rejection = CommitVerdict.Reject(CommitRejection.MalformedCommit, ex.Message);
            return false;
        }

        string? mismatch = block.Did != commit.Repo ? "did differs from the event's repo"
            : block.Rev != commit.Rev ? "rev differs from the event's rev"
            : block.Version != 3 ? $"version {block.Version} is not 3"
            : !Tid.IsValid(block.Rev) ? "rev is not a TID"
            : null;
        if (mismatch is not null)
        {
            rejection = CommitVerdict.Reject(CommitRejection.CommitMismatch, mismatch);
            return false;
        }

        return true;
    }
}
