using AtSync.Firehose.Events;

namespace AtSync.Firehose.Verify;

/// <summary>
/// The verify stage, outside any transaction (network I/O, bounded in time): signature verdicts for commits carrying
/// forum ops, then the handles of the authors whose posts may create phpBB users. Returns a <see cref="PreparedBatch"/>.
/// </summary>
public sealed class BatchVerifier(CommitSignatures signatures, AuthorHandles handles) : IBatchVerifier
{
    public async Task<PreparedBatch> PrepareAsync(IReadOnlyList<StreamEvent> events, CancellationToken ct)
    {
        var verdicts = await signatures.VerdictsAsync(events, ct);
        var setAside = new BatchOutcome();
        var kept = new List<StreamEvent>(events.Count);
        foreach (var streamEvent in events)
        {
            if (streamEvent is CommitEvent commit && verdicts.TryGetValue(commit.SeqNumber, out var verdict) && SkipReason(verdict) is { } reason)
            {
                setAside.Skip(reason, commit.ForumOps.Count);
                continue;
            }
            kept.Add(streamEvent);
        }
        var authors = kept.OfType<CommitEvent>()
            .Where(c => c.ForumOps.Any(op => op.Action != ForumOp.Delete && op.Post is not null))
            .Select(c => c.Repo)
            .Distinct(StringComparer.Ordinal)
            .ToList();
        IReadOnlyDictionary<string, string?> resolved = authors.Count > 0
            ? await handles.ResolveAsync(authors, ct)
            : new Dictionary<string, string?>(StringComparer.Ordinal);
        return new PreparedBatch(kept, verdicts, resolved, setAside);
    }

    /// <summary>The skip reason (metric tag) of a verdict whose commit is not applied; null when it is applied.</summary>
    public static string? SkipReason(SignatureVerdict verdict) => verdict switch
    {
        SignatureVerdict.Bad => Outcomes.BadSignature,
        SignatureVerdict.Unverifiable => Outcomes.UnverifiedSignature,
        _ => null,
    };
}
