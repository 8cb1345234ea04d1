using System.ComponentModel.DataAnnotations;

namespace AtSync.Firehose.Import;

/// <summary>
/// Repository imports from <c>com.atproto.sync.getRepo</c> (section <c>Import</c>, e.g. <c>Import__MaxCarBytes</c>):
/// resync of desynchronized repositories and backfill on request. Every value has a production default.
/// </summary>
public sealed class ImportOptions
{
    public const string Section = "Import";

    /// <summary>Whether the Firehose runs the import worker (claims due repositories from <c>atproto_repos</c>).</summary>
    public bool WorkerEnabled { get; set; } = true;

    /// <summary>Largest repository CAR read; a larger one is refused (<c>car_too_large</c>) without being buffered.</summary>
    [Range(1024, 2_000_000_000)]
    public int MaxCarBytes { get; set; } = 256 * 1024 * 1024;

    /// <summary>Longest a whole <c>getRepo</c> download may take (headers and body).</summary>
    public TimeSpan FetchTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Forum records applied per database transaction (progress is saved with each).</summary>
    [Range(1, 100_000)]
    public int BatchSize { get; set; } = 500;

    /// <summary>
    /// Whether a batch of new posts (the common case of a backfill) is written with multi-row INSERTs and its counters
    /// computed once (<c>BulkPostWriter</c>); off, or for any other batch, each record goes through the live appliers.
    /// Both give the same rows.
    /// </summary>
    public bool BulkWrites { get; set; } = true;

    /// <summary>Repositories imported at the same time by one process.</summary>
    [Range(1, 64)]
    public int MaxConcurrentImports { get; set; } = 2;

    /// <summary>A claimed repository belongs to its importer this long (renewed with every batch); then another process may take it.</summary>
    public TimeSpan Lease { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>How often the worker looks for due repositories.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Failed imports of one repository before it is given up (until requested again).</summary>
    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 6;

    /// <summary>Delay after a repository's first failed import; doubles per failure up to <see cref="RetryMaxDelay"/>.</summary>
    public TimeSpan RetryInitialDelay { get; set; } = TimeSpan.FromMinutes(1);

    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromHours(6);

    /// <summary>
    /// Host names whose PDS may be on a non-public address (development and tests against loopback peers); every other
    /// PDS address is checked as identity fetches are (no loopback, no private ranges).
    /// </summary>
    public string[] AllowedHosts { get; set; } = [];

    internal bool IsValid => FetchTimeout > TimeSpan.Zero && Lease > FetchTimeout && PollInterval > TimeSpan.Zero
        && RetryInitialDelay > TimeSpan.Zero && RetryMaxDelay >= RetryInitialDelay;
}
