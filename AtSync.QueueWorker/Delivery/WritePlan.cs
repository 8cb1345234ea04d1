using AtSync.Core.Forum;
using AtSync.QueueWorker.Queue;

namespace AtSync.QueueWorker.Delivery;

/// <summary>
/// What to send to the PDS for a row. <paramref name="Slug"/> and <paramref name="ParentCid"/> (the parent board's CID
/// the record refers to): a board record's, kept in <c>atproto_forums</c>.
/// </summary>
public sealed record PlannedWrite(QueueOperation Operation, string Rkey, ReadOnlyMemory<byte> Record, bool IsTopicStarter, string? Slug = null,
    string? ParentCid = null);

/// <summary>The planner's answer for a row: a write to send, or its outcome already decided.</summary>
public abstract record RowPlan
{
    private RowPlan() { }

    public sealed record Send(PlannedWrite Write) : RowPlan;

    /// <summary>Nothing to send. <paramref name="FailureReason"/> is the <c>atsync.queue.failed</c> tag when it counts as a failure.</summary>
    public sealed record Decided(RowOutcome Outcome, string? FailureReason = null) : RowPlan;
}
