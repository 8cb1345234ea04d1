using AtSync.AtProto.Car;
using AtSync.AtProto.Crypto;
using AtSync.AtProto.EventStream;

namespace AtSync.AtProto.Sync;

/// <summary>Reads a CAR rooted at a commit and checks the commit: its blocks' hashes, its DID, version and signature.</summary>
internal static class SignedCommitReader
{
    public static RepoRejection TryRead(
        ReadOnlyMemory<byte> bytes, string did, PublicKey? key, CarReadOptions options, out CarFile car, out CommitBlock commit)
    {
        car = null!;
        commit = null!;
        if (bytes.Length > options.MaxCarLength)
        {
            return RepoRejection.TooLarge;
        }

        try
        {
            car = CarReader.Read(bytes, options);
        }
        catch (CarException ex) when (IsOverLimit(ex))
        {
            return RepoRejection.TooLarge;
        }
        catch (AtProtoDataException)
        {
            return RepoRejection.MalformedCar;
        }

        foreach (var block in car.Blocks)
        {
            if (!block.Cid.Matches(block.Data.Span))
            {
                return RepoRejection.BlockHashMismatch;
            }
        }

        if (car.Roots.Count == 0 || !car.TryGetBlock(car.Roots[0], out var commitBytes))
        {
            return RepoRejection.MalformedCommit;
        }

        try
        {
            commit = CommitBlock.Decode(commitBytes);
        }
        catch (AtProtoDataException)
        {
            return RepoRejection.MalformedCommit;
        }
        catch (InvalidOperationException)
        {
            return RepoRejection.MalformedCommit;
        }

        if (commit.Did != did || commit.Version != 3)
        {
            return RepoRejection.CommitMismatch;
        }

        return key is not null && CommitBlockVerifier.VerifyWith(commit, key) ? RepoRejection.None : RepoRejection.BadSignature;
    }

    /// <summary>The reader's block-count and block-size limits (see Car/CarReader.cs), as opposed to malformed framing.</summary>
    private static bool IsOverLimit(CarException ex) =>
        ex.Reason.StartsWith("more than", StringComparison.Ordinal) || ex.Reason.Contains("exceeds the limit", StringComparison.Ordinal);
}
