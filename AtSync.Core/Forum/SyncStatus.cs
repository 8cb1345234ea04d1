namespace AtSync.Core.Forum;

/// <summary>
/// <c>atproto_posts.sync_status</c>: where a phpBB post stands against its record. One SQL spelling each
/// (<see cref="SyncStatusSql.ToSql"/>).
/// </summary>
public enum SyncStatus
{
    /// <summary>Mapped, not confirmed yet (the column's default).</summary>
    Pending,

    /// <summary>The record exists with <c>at_cid</c> (published by the QueueWorker or received from the network).</summary>
    Synced,

    /// <summary>The QueueWorker gave up publishing it (its queue row was dead-lettered).</summary>
    Failed,

    /// <summary>Its record was deleted on the network; the phpBB post is soft-deleted.</summary>
    Deleted,
}

public static class SyncStatusSql
{
    public static string ToSql(this SyncStatus status) => status switch
    {
        SyncStatus.Pending => "pending",
        SyncStatus.Synced => "synced",
        SyncStatus.Failed => "failed",
        SyncStatus.Deleted => "deleted",
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, null),
    };

    /// <summary>The status a stored value names; an unknown value (another writer's) is <see cref="SyncStatus.Pending"/>.</summary>
    public static SyncStatus Parse(string value) => value switch
    {
        "synced" => SyncStatus.Synced,
        "failed" => SyncStatus.Failed,
        "deleted" => SyncStatus.Deleted,
        _ => SyncStatus.Pending,
    };
}
