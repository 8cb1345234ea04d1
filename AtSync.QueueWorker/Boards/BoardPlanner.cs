using AtSync.AtProto.Syntax;
using AtSync.Core.Forum;
using AtSync.QueueWorker.Delivery;
using AtSync.QueueWorker.Queue;
using AtSync.QueueWorker.Records;

namespace AtSync.QueueWorker.Boards;

/// <summary>
/// Decides, without I/O, what a board row becomes. A row says "bring forum <c>local_id</c>'s board in step", whatever
/// its operation: a FORUM_POST forum is written (put at its mapped record key, or created at the row's key when it
/// has no record in the forum's repository yet), any other forum, or one that is gone, has its record deleted. So
/// rows enqueued twice (a trigger and the reconcile) write the same record, never a second one.
/// </summary>
public static class BoardPlanner
{
    public static RowPlan Plan(QueueRow row, BoardContext context, string forumDid)
    {
        ArgumentNullException.ThrowIfNull(row);
        ArgumentNullException.ThrowIfNull(context);
        if (row.LocalId is not { } forumId) return new RowPlan.Decided(new RowOutcome.DeadLetter("invalid queue row", "a board row needs local_id (the forum id)"));
        context.Mappings.TryGetValue(forumId, out var mapping);
        var ownRkey = mapping is null ? null : RkeyIn(mapping.Uri, forumDid);

        if (!context.Forums.TryGetValue(forumId, out var forum) || forum.Type != PhpbbConstants.ForumPost)
        {
            if (mapping is null) return new RowPlan.Decided(new RowOutcome.Skipped("the forum has no board record"));
            // A mapping to a record outside the forum's repository (mapped by hand): only the mapping goes.
            if (ownRkey is null) return new RowPlan.Decided(new RowOutcome.Done(null, null, false));
            return new RowPlan.Send(new PlannedWrite(QueueOperation.Delete, ownRkey, ReadOnlyMemory<byte>.Empty, false));
        }

        BoardRecord record;
        try
        {
            record = BoardRecordBuilder.Build(forum);
        }
        catch (RecordBuildException ex)
        {
            return new RowPlan.Decided(new RowOutcome.DeadLetter("invalid record", ex.Message), "invalid_record");
        }
        if (ownRkey is not null) return new RowPlan.Send(new PlannedWrite(QueueOperation.Update, ownRkey, record.Json, false, record.Slug));
        if (row.Rkey.Length == 0) return new RowPlan.Decided(new RowOutcome.DeadLetter("invalid queue row", "a board create needs an rkey"));
        return new RowPlan.Send(new PlannedWrite(QueueOperation.Create, row.Rkey, record.Json, false, record.Slug));
    }

    private static string? RkeyIn(string uri, string did) =>
        AtUri.TryParse(uri, out var parsed) && parsed.Authority == did && parsed.Collection?.Value == ForumLexicon.Board && parsed.RecordKey is { } rkey
            ? rkey.Value
            : null;
}
