namespace AtSync.Firehose.Import;

/// <summary>
/// How one repository import ended: <see cref="Reason"/> is null when it was applied (the repository is active at
/// <see cref="Rev"/>); <see cref="Applied"/> counts what the appliers did (topics, replies, edits, deletes, skips).
/// </summary>
public sealed record ImportResult(string Did, string? Reason, string? Rev, ImportPlan? Plan, BatchOutcome Applied, long CarBytes, int RecordCount)
{
    public bool Succeeded => Reason is null;

    /// <summary>Operations the appliers ran (creates, updates and deletes of the plan; each may still be a counted skip).</summary>
    public int OpsApplied => Plan?.Ops.Count ?? 0;
}

/// <summary>Progress of one import, reported after each committed batch.</summary>
public readonly record struct ImportProgress(string Did, int Done, int Total);
