namespace AtSync.Core.Sync;

/// <summary>
/// <c>atproto_repos.status</c>: where one author's repository stands (migration 400). One SQL spelling each
/// (<see cref="RepoStatusSql.ToSql"/>). Live commits of a repository that is not <see cref="Active"/> are held.
/// </summary>
public enum RepoStatus
{
    /// <summary>In step: live commits are verified and applied as they arrive.</summary>
    Active,

    /// <summary>A commit could not be verified now (signing key unavailable): retried at <c>retry_at</c>, bounded.</summary>
    Parked,

    /// <summary>A commit failed verification (<c>reason</c>): the repository must be re-imported from its PDS.</summary>
    Desynchronized,

    /// <summary>An import was asked for (<c>requested_by</c>: a newer <c>#sync</c>, an operator, a link, the relay's listing).</summary>
    ResyncRequested,

    /// <summary>An import from <c>getRepo</c> is running.</summary>
    Importing,
}

public static class RepoStatusSql
{
    /// <summary>
    /// <c>atproto_repos.reason</c> of an active repository whose <c>rev</c> was set by an import from <c>getRepo</c>
    /// rather than by a live commit: until the next live commit, commits at or below that rev are ones the stream
    /// delivers late (emitted before the imported snapshot) and are already reflected, not stale.
    /// </summary>
    public const string ImportedReason = "imported";

    public static string ToSql(this RepoStatus status) => status switch
    {
        RepoStatus.Active => "active",
        RepoStatus.Parked => "parked",
        RepoStatus.Desynchronized => "desynchronized",
        RepoStatus.ResyncRequested => "resync_requested",
        RepoStatus.Importing => "importing",
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, null),
    };

    public static RepoStatus Parse(string value) => value switch
    {
        "active" => RepoStatus.Active,
        "parked" => RepoStatus.Parked,
        "desynchronized" => RepoStatus.Desynchronized,
        "resync_requested" => RepoStatus.ResyncRequested,
        "importing" => RepoStatus.Importing,
        _ => throw new ArgumentOutOfRangeException(nameof(value), value, "not a repository status"),
    };
}
