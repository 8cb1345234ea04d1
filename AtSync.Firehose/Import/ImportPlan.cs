using AtSync.AtProto.Sync;
using AtSync.Core.Forum;
using AtSync.Firehose.Apply;
using AtSync.Firehose.Events;

namespace AtSync.Firehose.Import;

/// <summary>What phpBB holds of one author's forum record: its mapping (or parking row) CID, and whether it is confirmed.</summary>
public sealed record HeldRecord(string Uri, string Cid, bool Confirmed, bool Deleted);

/// <summary>
/// The difference between a verified repository's <c>net.vza.forum.post</c> records and what phpBB holds for its DID,
/// as forum operations for the Firehose's own appliers, in the order they must run: creates and edits oldest first
/// (the record's <c>createdAt</c>, then record key), as they were written, so phpBB's last posts are the newest ones;
/// a reply whose topic starter is in the plan never before it (it waits for its starter, then follows it); deletes
/// last. Pure.
/// </summary>
public sealed record ImportPlan(IReadOnlyList<ForumOp> Ops, int Creates, int Updates, int Deletes, int Unchanged)
{
    public static readonly IReadOnlySet<string> Collections = new HashSet<string>(StringComparer.Ordinal) { ForumLexicon.Post };

    /// <param name="records">The repository's post records (from <see cref="RepositoryCar.Records"/>).</param>
    /// <param name="held">phpBB's mappings and parked replies of the repository's DID, by AT-URI.</param>
    /// <param name="eventTime">The import's event time (unix seconds, from the commit's rev), for ordering records without a usable <c>createdAt</c>.</param>
    public static ImportPlan Create(string did, IEnumerable<RepoRecord> records, IReadOnlyDictionary<string, HeldRecord> held, long eventTime)
    {
        var writes = new List<(long Time, string Rkey, ForumOp Op)>();
        var present = new HashSet<string>(StringComparer.Ordinal);
        int creates = 0, updates = 0, unchanged = 0;
        foreach (var record in records)
        {
            if (record.Collection != ForumLexicon.Post) continue;
            var uri = $"at://{did}/{record.Collection}/{record.RecordKey}";
            present.Add(uri);
            var cid = record.Cid.ToString();
            var known = held.GetValueOrDefault(uri);
            if (known is not null && known.Cid == cid && (known.Confirmed || known.Deleted))
            {
                unchanged++;
                continue;
            }
            var action = known is null ? ForumOp.Create : ForumOp.Update;
            if (known is null) creates++;
            else updates++;
            ForumPostRecordCbor.TryRead(record.Value, out var post, out var problem);
            var op = new ForumOp(action, record.Collection, record.RecordKey, cid, post, post is null ? problem ?? "not a post record" : problem);
            writes.Add((EventTimes.PostTime(post?.CreatedAt, eventTime), record.RecordKey, op));
        }

        var deletes = held.Values
            .Where(h => h.Confirmed && !h.Deleted && !present.Contains(h.Uri))
            .Select(h => h.Uri)
            .Order(StringComparer.Ordinal)
            .Select(uri => new ForumOp(ForumOp.Delete, ForumLexicon.Post, uri[(uri.LastIndexOf('/') + 1)..], null, null, null))
            .ToList();

        var ops = new List<ForumOp>(writes.Count + deletes.Count);
        ops.AddRange(StartersFirst(did, writes.OrderBy(w => w.Time).ThenBy(w => w.Rkey, StringComparer.Ordinal).Select(w => w.Op).ToList()));
        ops.AddRange(deletes);
        return new ImportPlan(ops, creates, updates, deletes.Count, unchanged);
    }

    /// <summary>
    /// <paramref name="ordered"/> with each reply whose topic starter comes later in it moved to right after that starter
    /// (a reply dated before its own topic: clock skew or a hostile record).
    /// </summary>
    private static IEnumerable<ForumOp> StartersFirst(string did, List<ForumOp> ordered)
    {
        var pendingStarters = ordered.Where(o => o.Post is { IsReply: false }).Select(o => o.Uri(did)).ToHashSet(StringComparer.Ordinal);
        var waiting = new Dictionary<string, List<ForumOp>>(StringComparer.Ordinal);
        foreach (var op in ordered)
        {
            if (op.Post?.ReplyRoot is { } root && pendingStarters.Contains(root.Uri))
            {
                (waiting.TryGetValue(root.Uri, out var list) ? list : waiting[root.Uri] = []).Add(op);
                continue;
            }
            yield return op;
            var uri = op.Uri(did);
            if (pendingStarters.Remove(uri) && waiting.Remove(uri, out var replies))
            {
                foreach (var reply in replies) yield return reply;
            }
        }
    }
}
