namespace AtSync.Core.Forum;

/// <summary><c>atproto_queue.status</c>. Finished rows are deleted, so there is no "done". One SQL spelling each.</summary>
public enum QueueStatus
{
    Pending,

    /// <summary>Claimed by a worker; <c>next_retry_at</c> is its lease deadline.</summary>
    Processing,

    DeadLetter,
}

/// <summary><c>atproto_queue.operation</c>: what to do with the record.</summary>
public enum QueueOperation
{
    Create,
    Update,
    Delete,
}

public static class QueueSql
{
    public static string ToSql(this QueueStatus status) => status switch
    {
        QueueStatus.Pending => "pending",
        QueueStatus.Processing => "processing",
        QueueStatus.DeadLetter => "dead_letter",
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, null),
    };

    public static QueueStatus? ParseStatus(string value) => value switch
    {
        "pending" => QueueStatus.Pending,
        "processing" => QueueStatus.Processing,
        "dead_letter" => QueueStatus.DeadLetter,
        _ => null,
    };

    public static string ToSql(this QueueOperation operation) => operation switch
    {
        QueueOperation.Create => "create",
        QueueOperation.Update => "update",
        QueueOperation.Delete => "delete",
        _ => throw new ArgumentOutOfRangeException(nameof(operation), operation, null),
    };

    public static QueueOperation ParseOperation(string value) => value switch
    {
        "create" => QueueOperation.Create,
        "update" => QueueOperation.Update,
        "delete" => QueueOperation.Delete,
        _ => throw new FormatException($"Unknown queue operation '{value}'."),
    };
}
