using AtSync.Firehose.Events;
using AtSync.Firehose.Repos;
using Microsoft.Extensions.Options;

namespace AtSync.Firehose.Verify;

/// <summary>
/// The verify stage, outside any transaction (network and database reads, bounded in time): the stored state of the
/// repositories the batch touches, signature verdicts within <see cref="FirehoseOptions.KeyDeadline"/>, then
/// <see cref="RepoGate"/>'s decision per commit and <c>#sync</c> (apply, hold, park, refuse), label signatures, then
/// the verified handles of the authors whose posts may create phpBB users and of linked users whose <c>#identity</c>
/// changed. Returns a <see cref="PreparedBatch"/>. The releaser uses the same path
/// for one repository's held frames (<see cref="PrepareReleaseAsync"/>).
/// </summary>
public sealed class BatchVerifier(
    CommitSignatures signatures, LabelSignatures labelSignatures, AuthorHandles handles, RepoStateStore repos, IOptions<FirehoseOptions> options,
    TimeProvider time) : IBatchVerifier
{
    public async Task<PreparedBatch> PrepareAsync(string stream, IReadOnlyList<StreamEvent> events, CancellationToken ct)
    {
        // A key rotation announced in this batch: forget the cached document (and the refresh limit) before checking.
        signatures.IdentityChanged(events.OfType<IdentityEvent>().Select(i => i.Did));
        var dids = events.Select(RepoOf).OfType<string>().ToHashSet(StringComparer.Ordinal);
        var states = signatures.Enabled ? await repos.LoadAsync(dids, ct) : [];
        // Only repositories that are open are checked now; the others' frames are held without a lookup.
        // A #sync concerns a repository already followed, or one whose forum commit is in this very batch.
        var inBatch = events.OfType<CommitEvent>().Where(c => c.ForumOps.Count > 0).Select(c => c.Repo).ToHashSet(StringComparer.Ordinal);
        var items = SignedItems(events, did => states.GetValueOrDefault(did) is not { } state ? true : state.IsOpen,
            did => states.ContainsKey(did) || inBatch.Contains(did));
        var verdicts = await signatures.VerdictsAsync(items, options.Value.KeyDeadline, ct);
        var setAside = new BatchOutcome();
        events = await labelSignatures.VerifyAsync(events, setAside, ct);
        var gate = new RepoGate(stream, states, verdicts, signatures.Enabled, releasing: false, time.GetUtcNow().ToUnixTimeSeconds(),
            new RepoWrites(), setAside);
        foreach (var streamEvent in events) gate.Add(streamEvent);
        return await FinishAsync(gate, verdicts, ct);
    }

    /// <summary>
    /// One repository's held frames (decoded, in seq order) through the same checks, with the state it has now and
    /// <see cref="FirehoseOptions.ReleaseKeyDeadline"/>. The caller decides about the repository's status from
    /// <see cref="Release"/>.
    /// </summary>
    public async Task<Release> PrepareReleaseAsync(string stream, RepoState state, IReadOnlyList<StreamEvent> events, CancellationToken ct)
    {
        var items = SignedItems(events, _ => true, _ => true);
        var verdicts = await signatures.VerdictsAsync(items, options.Value.ReleaseKeyDeadline, ct);
        var writes = new RepoWrites();
        var gate = new RepoGate(stream, new Dictionary<string, RepoState>(StringComparer.Ordinal) { [state.Did] = state }, verdicts,
            signatures.Enabled, releasing: true, time.GetUtcNow().ToUnixTimeSeconds(), writes, new BatchOutcome());
        foreach (var streamEvent in events) gate.Add(streamEvent);
        var prepared = await FinishAsync(gate, verdicts, ct);
        return new Release(prepared, gate.Done, gate.StoppedOnUnavailableKey, gate.IsOpen(state.Did));
    }

    /// <summary>What a release decided: the batch to apply, the held seqs judged for good, and whether the repository is still open.</summary>
    public sealed record Release(PreparedBatch Batch, IReadOnlyList<long> Done, bool StoppedOnUnavailableKey, bool StillOpen);

    private async Task<PreparedBatch> FinishAsync(RepoGate gate, IReadOnlyDictionary<long, SignatureVerdict> verdicts, CancellationToken ct)
    {
        var authors = gate.Kept.OfType<CommitEvent>()
            .Where(c => c.ForumOps.Any(op => op.Action != ForumOp.Delete && op.Post is not null))
            .Select(c => c.Repo)
            .Distinct(StringComparer.Ordinal)
            .ToList();
        var resolved = await handles.ForBatchAsync(authors, gate.Kept.OfType<IdentityEvent>().Select(i => i.Did), ct);
        return new PreparedBatch(gate.Kept, verdicts, resolved, gate.SetAside, gate.Writes);
    }

    private static string? RepoOf(StreamEvent streamEvent) => streamEvent switch
    {
        CommitEvent { ForumOps.Count: > 0 } commit => commit.Repo,
        RepoSyncEvent sync => sync.Did,
        _ => null,
    };

    /// <summary>The signed commit objects to check: forum commits of open repositories, #syncs of tracked open ones.</summary>
    private static List<SignedItem> SignedItems(IReadOnlyList<StreamEvent> events, Func<string, bool> open, Func<string, bool> tracked)
    {
        var items = new List<SignedItem>();
        foreach (var streamEvent in events)
        {
            switch (streamEvent)
            {
                case CommitEvent { ForumOps.Count: > 0 } commit when open(commit.Repo):
                    items.Add(new SignedItem(commit.SeqNumber, commit.Repo, commit.SignedCommit));
                    break;
                case RepoSyncEvent sync when tracked(sync.Did) && open(sync.Did):
                    items.Add(new SignedItem(sync.SeqNumber, sync.Did, sync.SignedCommit));
                    break;
            }
        }
        return items;
    }
}
