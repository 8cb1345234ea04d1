using AtSync.AtProto.Sync;

namespace AtSync.Firehose.Import;

/// <summary>
/// What fetching a repository gave: its verified CAR, or why not (<see cref="Failure"/>, a metric tag and the value
/// stored in <c>atproto_repos.reason</c>). Nothing is applied from a repository that did not verify.
/// </summary>
public sealed record FetchedRepository(RepositoryCar? Repository, string? Failure, long Bytes)
{
    /// <summary>Time spent resolving the DID and downloading the CAR.</summary>
    public TimeSpan DownloadTime { get; init; }

    /// <summary>Time spent parsing and verifying the CAR (every hash, the signature, the tree).</summary>
    public TimeSpan VerifyTime { get; init; }

    public static FetchedRepository Failed(string reason, long bytes = 0) => new(null, reason, bytes);
}

/// <summary>The reasons an import fails (tag values of <c>atsync.firehose.imports{outcome}</c> and <c>atproto_repos.reason</c>).</summary>
public static class ImportFailures
{
    public const string InvalidDid = "invalid_did";
    public const string DidUnresolved = "did_unresolved";
    public const string DirectoryUnavailable = "did_directory_unavailable";
    public const string NoPds = "no_pds";
    public const string NoSigningKey = "no_signing_key";
    public const string PdsUnreachable = "pds_unreachable";
    public const string PdsTimeout = "pds_timeout";
    public const string RepoNotFound = "repo_not_found";
    public const string CarTooLarge = "car_too_large";
    public const string StaleRepository = "stale_repository";
    public const string InvalidRev = "invalid_rev";
    public const string LeaseLost = "lease_lost";
    public const string DatabaseError = "database_error";

    /// <summary><c>pds_http_503</c>, …: the PDS answered getRepo with another status.</summary>
    public static string PdsStatus(int status) => $"pds_http_{status}";

    /// <summary><c>car_block_hash_mismatch</c>, <c>car_missing_block</c>, …: the CAR did not verify.</summary>
    public static string Car(RepoRejection rejection) => rejection switch
    {
        RepoRejection.TooLarge => CarTooLarge,
        RepoRejection.MalformedCar => "car_malformed",
        RepoRejection.BlockHashMismatch => "car_block_hash_mismatch",
        RepoRejection.MalformedCommit => "car_malformed_commit",
        RepoRejection.CommitMismatch => "car_commit_mismatch",
        RepoRejection.BadSignature => "car_bad_signature",
        RepoRejection.MalformedTree => "car_malformed_tree",
        RepoRejection.MissingBlock => "car_missing_block",
        RepoRejection.MalformedRecord => "car_malformed_record",
        _ => "car_" + rejection.ToString().ToLowerInvariant(),
    };
}
