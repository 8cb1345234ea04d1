using AtSync.AtProto.Sync;
using AtSync.Core.Sync;
using AtSync.Firehose.Events;
using AtSync.Firehose.Repos;

namespace AtSync.Firehose.Verify;

/// <summary>
/// Per-author isolation and sync 1.1, decided event by event in seq order, in memory (no I/O): for each commit carrying
/// forum ops and each <c>#sync</c>, whether it is applied, held behind its repository, parked, refused (repository
/// desynchronized) or ignored, from the repository's stored state (<see cref="RepoState"/>), the signature verdict and
/// the MST verdict taken at decode time (<see cref="CommitProof"/>). What it decides goes to <see cref="RepoWrites"/>
/// (written with the batch) and <see cref="Kept"/> (applied). In release mode (<see cref="HeldCommitReleaser"/>) the
/// repository's own held frames are judged: none is held again, and a rev the repository already has is skipped.
/// </summary>
internal sealed class RepoGate(
    string stream, IReadOnlyDictionary<string, RepoState> states, IReadOnlyDictionary<long, SignatureVerdict> verdicts,
    bool verifying, bool releasing, long now, FirehoseOptions options, RepoWrites writes, BatchOutcome setAside)
{
    private readonly Dictionary<string, Walk> _walks = new(StringComparer.Ordinal);

    /// <summary>The repository changes decided.</summary>
    public RepoWrites Writes => writes;

    /// <summary>What was set aside, by reason.</summary>
    public BatchOutcome SetAside => setAside;

    /// <summary>The events to apply, in order.</summary>
    public List<StreamEvent> Kept { get; } = [];

    /// <summary>Seqs judged for good (applied, skipped or refused): in release mode, the held rows to delete.</summary>
    public List<long> Done { get; } = [];

    /// <summary>Release mode: a frame's key was unavailable again; it and the ones after it stay held.</summary>
    public bool StoppedOnUnavailableKey { get; private set; }

    /// <summary>Whether the repository is still open (release mode: nothing stopped it), by DID.</summary>
    public bool IsOpen(string did) => WalkOf(did).Open;

    public void Add(StreamEvent streamEvent)
    {
        switch (streamEvent)
        {
            case CommitEvent { ForumOps.Count: > 0 } commit when verifying:
                Commit(commit);
                break;
            case RepoSyncEvent sync when verifying:
                Sync(sync);
                break;
            case RepoSyncEvent:
                break;
            default:
                Kept.Add(streamEvent);
                break;
        }
    }

    private void Commit(CommitEvent commit)
    {
        var walk = WalkOf(commit.Repo);
        if (!walk.Open)
        {
            Hold(commit.Repo, commit.SeqNumber, commit.Proof?.Frame, walk.HoldReason);
            return;
        }
        switch (verdicts.GetValueOrDefault(commit.SeqNumber, SignatureVerdict.Unverifiable))
        {
            case SignatureVerdict.KeyUnavailable:
                Park(walk, commit.Repo, commit.SeqNumber, commit.Proof?.Frame);
                return;
            case SignatureVerdict.Unverifiable:
                setAside.Skip(Outcomes.UnverifiedSignature, commit.ForumOps.Count);
                Done.Add(commit.SeqNumber);
                return;
            case SignatureVerdict.Bad:
                setAside.Skip(Outcomes.BadSignature, commit.ForumOps.Count);
                Reject(walk, commit, CommitRejection.BadSignature);
                return;
        }
        if (commit.Proof is not { Data: { } data } proof)
        {
            Reject(walk, commit, CommitRejection.MalformedCommit);
            return;
        }
        if (proof.Structure != CommitRejection.None)
        {
            Reject(walk, commit, proof.Structure);
            return;
        }
        if (walk.Rev.Length > 0)
        {
            if (string.CompareOrdinal(commit.Rev, walk.Rev) <= 0 && commit.SeqNumber <= walk.Seq && !releasing)
            {
                // History replayed from a rewound cursor (at or before the stream position of the last verified
                // commit): verified, and left to each record's applied revision to make a no-op (atproto_record_revs).
                Kept.Add(commit);
                Done.Add(commit.SeqNumber);
                return;
            }
            if (commit.Rev == walk.Rev && data == walk.Data)
            {
                // The very commit already applied (a replay from an older cursor): nothing to do.
                Skip(commit, Outcomes.DuplicateCommit);
                return;
            }
            if (string.CompareOrdinal(commit.Rev, walk.Rev) <= 0)
            {
                if (releasing || walk.FromImport)
                {
                    // Held while an import ran, or delivered late after it (emitted before the imported snapshot, and
                    // no live commit since): the imported repository already reflects it.
                    Skip(commit, Outcomes.AlreadyReflected);
                    return;
                }
                Reject(walk, commit, CommitRejection.StaleRev);
                return;
            }
            // Only commits carrying forum ops are tracked, so commits in between are normal; but a commit whose
            // predecessor is older than the last verified one, or that claims to follow it from another root, is not.
            if (proof.Since is { } since
                && (string.CompareOrdinal(since, walk.Rev) < 0 || (since == walk.Rev && proof.PrevData != walk.Data)))
            {
                Reject(walk, commit, CommitRejection.ChainBroken);
                return;
            }
        }
        walk.Rev = commit.Rev;
        walk.Data = data;
        walk.Seq = commit.SeqNumber;
        walk.FromImport = false;
        writes.Verified(commit.Repo, commit.Rev, data, commit.SeqNumber);
        Kept.Add(commit);
        Done.Add(commit.SeqNumber);
    }

    private void Sync(RepoSyncEvent sync)
    {
        if (!states.ContainsKey(sync.Did) && !_walks.ContainsKey(sync.Did))
        {
            // A repository AtSync never saw a forum commit of: a #sync asks nothing of us.
            Done.Add(sync.SeqNumber);
            return;
        }
        var walk = WalkOf(sync.Did);
        if (!walk.Open)
        {
            Hold(sync.Did, sync.SeqNumber, sync.Frame, walk.HoldReason);
            return;
        }
        var verdict = verdicts.GetValueOrDefault(sync.SeqNumber, SignatureVerdict.Unverifiable);
        if (verdict == SignatureVerdict.KeyUnavailable)
        {
            Park(walk, sync.Did, sync.SeqNumber, sync.Frame);
            return;
        }
        Done.Add(sync.SeqNumber);
        if (verdict is not (SignatureVerdict.Valid or SignatureVerdict.NotChecked) || sync.SignedCommit?.Rev != sync.Rev)
        {
            // An unsigned or badly signed #sync must not make work for anyone.
            setAside.Skip(Outcomes.SyncIgnored);
            return;
        }
        if (string.CompareOrdinal(sync.Rev, walk.Rev) <= 0) return;
        writes.RequestResync(sync.Did, "sync");
        walk.Close(RepoStatus.ResyncRequested);
    }

    private void Park(Walk walk, string did, long seq, byte[]? frame)
    {
        if (releasing)
        {
            StoppedOnUnavailableKey = true;
            walk.Close(RepoStatus.Parked);
            return;
        }
        var retryAt = now + (long)Math.Ceiling(options.ParkedRetryFirst.TotalSeconds);
        writes.Park(did, RejectionReasons.KeyUnavailable, 1, retryAt);
        walk.Close(RepoStatus.Parked);
        Hold(did, seq, frame, RepoStatus.Parked.ToSql());
    }

    private void Hold(string did, long seq, byte[]? frame, string reason)
    {
        if (releasing) return; // already held: it stays where it is
        if (frame is null)
        {
            return;
        }
        var walk = WalkOf(did);
        if (walk.HeldCount >= options.MaxHeldPerRepo)
        {
            // Bounded per repository: the rest is left to an import, which reflects whatever was genuine.
            writes.DropOverLimit(did, RejectionReasons.HeldOverLimit, first: !walk.OverLimit);
            walk.OverLimit = true;
            walk.Close(RepoStatus.Desynchronized);
            return;
        }
        walk.HeldCount++;
        writes.Hold(did, seq, stream, frame, reason);
    }

    /// <summary>
    /// A commit that fails verification is not applied; its repository is desynchronized with the reason, so later
    /// commits wait for an import of the repository (which reflects whatever of this commit was genuine).
    /// </summary>
    private void Reject(Walk walk, CommitEvent commit, CommitRejection rejection)
    {
        if (rejection != CommitRejection.BadSignature) setAside.Skip(Outcomes.CommitRejected, commit.ForumOps.Count);
        writes.Desynchronize(commit.Repo, RejectionReasons.Of(rejection));
        walk.Close(RepoStatus.Desynchronized);
        Done.Add(commit.SeqNumber);
    }

    private void Skip(CommitEvent commit, string reason)
    {
        setAside.Skip(reason, commit.ForumOps.Count);
        Done.Add(commit.SeqNumber);
    }

    private Walk WalkOf(string did)
    {
        if (_walks.TryGetValue(did, out var walk)) return walk;
        var state = states.GetValueOrDefault(did) ?? RepoState.New(did);
        walk = new Walk(state.Rev, state.DataCid, state.Seq, releasing || state.IsOpen, state.Status, state.HasHeld)
        {
            FromImport = state.Reason == RepoStatusSql.ImportedReason,
            HeldCount = state.HeldCount,
        };
        _walks[did] = walk;
        return walk;
    }

    /// <summary>A repository as the walk has it so far.</summary>
    private sealed class Walk(string rev, string data, long seq, bool open, RepoStatus status, bool hasHeld)
    {
        public string Rev { get; set; } = rev;
        public string Data { get; set; } = data;
        public long Seq { get; set; } = seq;

        /// <summary>The stored rev was set by an import and no live commit has followed it yet.</summary>
        public bool FromImport { get; set; }

        /// <summary>Frames of the repository held in the database, counting those this batch holds.</summary>
        public int HeldCount { get; set; }

        /// <summary>A frame of this batch was already dropped over <see cref="FirehoseOptions.MaxHeldPerRepo"/>.</summary>
        public bool OverLimit { get; set; }

        public bool Open { get; private set; } = open;
        public RepoStatus Status { get; private set; } = status;

        /// <summary>The metric tag of a frame held behind this repository: its status, or <c>behind</c> an earlier held one.</summary>
        public string HoldReason => Status == RepoStatus.Active && hasHeld ? "behind" : Status.ToSql();

        public void Close(RepoStatus status)
        {
            Open = false;
            Status = status;
        }
    }
}
