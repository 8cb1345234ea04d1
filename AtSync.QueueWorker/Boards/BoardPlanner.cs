using AtSync.AtProto.Syntax;
using AtSync.Core.Forum;
using AtSync.QueueWorker.Delivery;
using AtSync.QueueWorker.Queue;
using AtSync.QueueWorker.Records;

namespace AtSync.QueueWorker.Boards;

/// <summary>
/// Decides, without I/O, what a board row becomes. A row says "bring forum <c>local_id</c>'s board in step", whatever
/// its operation: a forum of any type (category, forum, link) is written (put at its mapped record key, or created at
/// the row's key when it has no record in the forum's repository yet) with its parent's strong ref as it is now; a
/// forum that is gone has its record deleted. A forum whose parent has no record yet waits (deferred, no attempt used):
/// parents are published first. So rows enqueued twice (a trigger and the reconcile) write the same record, never a
/// second one.
/// </summary>
public static class BoardPlanner
{
    /// <summary>How long a board whose parent has no record yet waits before it is tried again.</summary>
    public static readonly TimeSpan ParentWait = TimeSpan.FromSeconds(5);

    public static RowPlan Plan(QueueRow row, BoardContext context, string forumDid, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(row);
        ArgumentNullException.ThrowIfNull(context);
        if (row.LocalId is not { } forumId) return new RowPlan.Decided(new RowOutcome.DeadLetter("invalid queue row", "a board row needs local_id (the forum id)"));
        context.Mappings.TryGetValue(forumId, out var mapping);
        var ownRkey = mapping is null ? null : RkeyIn(mapping.Uri, forumDid);

        if (!context.Forums.TryGetValue(forumId, out var forum))
        {
            if (mapping is null) return new RowPlan.Decided(new RowOutcome.Skipped("the forum has no board record"));
            // A mapping to a record outside the forum's repository (mapped by hand): only the mapping goes.
            if (ownRkey is null) return new RowPlan.Decided(new RowOutcome.Done(null, null, false));
            return new RowPlan.Send(new PlannedWrite(QueueOperation.Delete, ownRkey, ReadOnlyMemory<byte>.Empty, false));
        }

        StrongRef? parent = null;
        if (forum.ParentId != 0 && (parent = context.CurrentRef(forum.ParentId)) is null)
        {
            return new RowPlan.Decided(new RowOutcome.Deferred("waiting for the parent board's record", now + ParentWait));
        }
        BoardRecord record;
        try
        {
            record = BoardRecordBuilder.Build(forum, parent);
        }
        catch (RecordBuildException ex)
        {
            return new RowPlan.Decided(new RowOutcome.DeadLetter("invalid record", ex.Message), "invalid_record");
        }
        if (ownRkey is not null) return new RowPlan.Send(new PlannedWrite(QueueOperation.Update, ownRkey, record.Json, false, record.Slug, parent?.Cid));
        if (row.Rkey.Length == 0) return new RowPlan.Decided(new RowOutcome.DeadLetter("invalid queue row", "a board create needs an rkey"));
        return new RowPlan.Send(new PlannedWrite(QueueOperation.Create, row.Rkey, record.Json, false, record.Slug, parent?.Cid));
    }

    private static string? RkeyIn(string uri, string did) =>
        AtUri.TryParse(uri, out var parsed) && parsed.Authority == did && parsed.Collection?.Value == ForumLexicon.Board && parsed.RecordKey is { } rkey
            ? rkey.Value
            : null;
}
