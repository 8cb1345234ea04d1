namespace AtSync.Firehose.Import;

/// <summary>
/// How one repository import ended: <see cref="Reason"/> is null when it was applied (the repository is active at
/// <see cref="Rev"/>); <see cref="Applied"/> counts what the appliers did (topics, replies, edits, deletes, skips).
/// </summary>
public sealed record ImportResult(string Did, string? Reason, string? Rev, ImportPlan? Plan, BatchOutcome Applied, long CarBytes, int RecordCount)
{
    public bool Succeeded => Reason is null;

    /// <summary>Where the import's time went.</summary>
    public ImportTimings Timings { get; init; } = new();

    /// <summary>Operations the appliers ran (creates, updates and deletes of the plan; each may still be a counted skip).</summary>
    public int OpsApplied => Plan?.Ops.Count ?? 0;
}

/// <summary>Progress of one import, reported after each committed batch.</summary>
public readonly record struct ImportProgress(string Did, int Done, int Total);

/// <summary>Where one import's time went: resolve and download, CAR parse and verify, planning against phpBB, applying the batches.</summary>
public sealed record ImportTimings
{
    public TimeSpan Download { get; init; }
    public TimeSpan Verify { get; init; }
    public TimeSpan Plan { get; init; }
    public TimeSpan Apply { get; init; }

    /// <summary>Batches written in bulk, and batches applied one record at a time.</summary>
    public int BulkBatches { get; init; }
    public int RecordBatches { get; init; }
}
