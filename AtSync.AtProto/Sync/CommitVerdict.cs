using AtSync.AtProto.Cids;

namespace AtSync.AtProto.Sync;

/// <summary>The outcome of verifying one commit: the reason (<see cref="CommitRejection.None"/> when verified) and a short detail for logs.</summary>
public readonly record struct CommitVerdict(CommitRejection Reason, string? Detail = null)
{
    public bool IsVerified => Reason == CommitRejection.None;

    /// <summary>The repository state this commit establishes (set only when verified).</summary>
    public RepoSyncState? State { get; init; }

    internal static CommitVerdict Reject(CommitRejection reason, string? detail = null) => new(reason, detail);

    internal static CommitVerdict Verified(string rev, Cid data) => new(CommitRejection.None) { State = new RepoSyncState(rev, data) };
}

/// <summary>What a consumer keeps per repository to check the next commit follows: the last verified <c>rev</c> and tree root.</summary>
public sealed record RepoSyncState(string Rev, Cid Data);
