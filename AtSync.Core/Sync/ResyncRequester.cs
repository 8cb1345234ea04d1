namespace AtSync.Core.Sync;

/// <summary>
/// <c>atproto_repos.requested_by</c>: who asked for a repository's import (migration 400). One SQL spelling each.
/// A failed import of a repository requested by <see cref="Desync"/> goes back to <see cref="RepoStatus.Desynchronized"/>,
/// any other back to <see cref="RepoStatus.ResyncRequested"/>.
/// </summary>
public enum ResyncRequester
{
    /// <summary>A <c>#sync</c> frame newer than the stored state.</summary>
    Sync,

    /// <summary><c>atsync backfill</c>.</summary>
    Operator,

    /// <summary>A forum member linked this DID (AtSync.Linking).</summary>
    Link,

    /// <summary>The relay listed the repository for a forum collection (<c>listReposByCollection</c>).</summary>
    Relay,

    /// <summary>A live commit failed verification.</summary>
    Desync,
}

public static class ResyncRequesterSql
{
    public static string ToSql(this ResyncRequester requester) => requester switch
    {
        ResyncRequester.Sync => "sync",
        ResyncRequester.Operator => "operator",
        ResyncRequester.Link => "link",
        ResyncRequester.Relay => "relay",
        ResyncRequester.Desync => "desync",
        _ => throw new ArgumentOutOfRangeException(nameof(requester), requester, null),
    };

    /// <summary>The requester of a stored value; unknown or empty values are <see cref="ResyncRequester.Operator"/>.</summary>
    public static ResyncRequester Parse(string value) => value switch
    {
        "sync" => ResyncRequester.Sync,
        "link" => ResyncRequester.Link,
        "relay" => ResyncRequester.Relay,
        "desync" => ResyncRequester.Desync,
        _ => ResyncRequester.Operator,
    };

    /// <summary>Where a repository waits for (another) import: desynchronized after a failed verification, else requested.</summary>
    public static RepoStatus WaitingStatus(this ResyncRequester requester) =>
        requester == ResyncRequester.Desync ? RepoStatus.Desynchronized : RepoStatus.ResyncRequested;
}
