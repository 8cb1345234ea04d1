using AtSync.Core.Sync;

namespace AtSync.Firehose.Repos;

/// <summary>
/// One row of <c>atproto_repos</c> as the verify stage reads it (migration 400): the last verified <c>rev</c> and tree
/// root (and the stream seq it came at), the status, and whether (and how many) commits of the DID are waiting in <c>atproto_held_commits</c>.
/// </summary>
public sealed record RepoState(
    string Did, string Rev, string DataCid, long Seq, RepoStatus Status, string Reason, int Attempts, long RetryAt, bool HasHeld, int HeldCount = 0)
{
    /// <summary>Live commits go straight to verification only when active with nothing waiting ahead of them.</summary>
    public bool IsOpen => Status == RepoStatus.Active && !HasHeld;

    /// <summary>A DID this database has never tracked.</summary>
    public static RepoState New(string did) => new(did, "", "", 0, RepoStatus.Active, "", 0, 0, false);
}
