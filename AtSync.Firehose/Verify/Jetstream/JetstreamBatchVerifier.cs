using System.Collections.Concurrent;
using AtSync.AtProto.Identity;
using AtSync.AtProto.Syntax;
using AtSync.Core.Sync;
using AtSync.Firehose.Events;
using AtSync.Firehose.Ingest.Jetstream;
using AtSync.Firehose.Repos;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AtSync.Firehose.Verify.Jetstream;

/// <summary>
/// The verify stage of the Jetstream stream. Jetstream signs nothing, so before a forum op is applied its author's PDS
/// must prove it (<see cref="RecordProver"/>): proven commits go on with the proven record, refused ones are counted by
/// reason and set aside (the cursor covers them). The repositories follow <c>atproto_repos</c> as on the relay path
/// (<see cref="RepoGate"/>'s rules): a DID that is parked, importing, desynchronized or asked to resync, or that has
/// events held already, has its events held in <c>atproto_held_commits</c> (format
/// <see cref="HeldFormats.Jetstream"/>, in <c>time_us</c> order) with the batch, and the cursor moves on. An author
/// whose PDS cannot be asked now is parked (<see cref="RejectionReasons.PdsUnavailable"/>) with that event and every
/// later one of the batch held; <see cref="HeldCommitReleaser"/> asks again with the relay's backoff and bounds
/// (<see cref="PrepareReleaseAsync"/>), in order, and gives up with <see cref="RejectionReasons.GaveUpPdsUnavailable"/>.
/// At most <see cref="JetstreamOptions.MaxHeldPerAuthor"/> events wait per author; more are dropped and counted
/// (<see cref="RecordRefusals.HeldOverLimit"/>). An event whose rev is at or below the repository's stored rev (set by
/// an import) is already reflected. Authors are checked concurrently; each author's commits in order. With
/// <see cref="JetstreamOptions.VerifyRecords"/> off the events are applied as Jetstream sent them (the holds still
/// apply). Then, as for the relay, the handles of new authors and of linked users with an <c>#identity</c> in the batch.
/// </summary>
public sealed partial class JetstreamBatchVerifier(
    RecordProver prover, IDidResolver resolver, AuthorHandles handles, RepoStateStore repos, IOptions<JetstreamOptions> options,
    IOptions<FirehoseOptions> firehoseOptions, TimeProvider time, ILogger<JetstreamBatchVerifier> logger) : IBatchVerifier
{
    private const int MaxConcurrentAuthors = 8;
    private static readonly IReadOnlyDictionary<long, SignatureVerdict> NoVerdicts = new Dictionary<long, SignatureVerdict>();

    public async Task<PreparedBatch> PrepareAsync(string stream, IReadOnlyList<StreamEvent> events, CancellationToken ct)
    {
        foreach (var identity in events.OfType<IdentityEvent>())
        {
            // A new PDS or key announced: the next proof asks the directory again.
            if (Did.TryParse(identity.Did, out var did)) resolver.Invalidate(did);
        }
        var setAside = new BatchOutcome();
        var writes = new RepoWrites();
        var forum = events.OfType<CommitEvent>().Where(c => c.ForumOps.Count > 0).ToList();
        var states = forum.Count > 0 ? await repos.LoadAsync(forum.Select(c => c.Repo).ToHashSet(StringComparer.Ordinal), ct) : [];

        // Per author, in order: held behind its repository, or to be proven now.
        var queues = new Dictionary<string, List<CommitEvent>>(StringComparer.Ordinal);
        var heldCounts = new Dictionary<string, int>(StringComparer.Ordinal);
        var reflected = 0;
        foreach (var commit in forum)
        {
            var state = states.GetValueOrDefault(commit.Repo);
            if (state is { IsOpen: false })
            {
                Hold(stream, commit, state.Status == RepoStatus.Active ? "behind" : state.Status.ToSql(), state, heldCounts, writes, setAside);
                continue;
            }
            if (state is { Rev.Length: > 0 } && string.CompareOrdinal(commit.Rev, state.Rev) <= 0)
            {
                reflected++; // the imported repository already holds it
                continue;
            }
            if (!queues.TryGetValue(commit.Repo, out var queue)) queues[commit.Repo] = queue = [];
            queue.Add(commit);
        }
        if (reflected > 0) setAside.Skip(Outcomes.AlreadyReflected, reflected);

        var results = await ProveAsync(queues, ct);
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        var retryAt = now + (long)Math.Ceiling(firehoseOptions.Value.ParkedRetryFirst.TotalSeconds);
        var proven = new Dictionary<CommitEvent, CommitEvent>(ReferenceEqualityComparer.Instance);
        foreach (var (did, result) in results)
        {
            foreach (var (commit, verified) in result.Proven) proven[commit] = verified;
            foreach (var reason in result.Refused) setAside.Skip(reason);
            if (result.Waiting.Count == 0) continue;
            // The author's PDS could not be asked: parked, this event and the later ones held, in order.
            writes.Park(did, RejectionReasons.PdsUnavailable, 1, retryAt);
            var state = states.GetValueOrDefault(did) ?? RepoState.New(did);
            foreach (var commit in result.Waiting) Hold(stream, commit, RepoStatus.Parked.ToSql(), state, heldCounts, writes, setAside);
            LogHeld(did, result.Waiting.Count, result.UnavailableReason, retryAt - now);
        }

        var kept = new List<StreamEvent>(events.Count);
        foreach (var streamEvent in events)
        {
            if (streamEvent is not CommitEvent commit || commit.ForumOps.Count == 0) kept.Add(streamEvent);
            else if (proven.TryGetValue(commit, out var verified)) kept.Add(verified);
        }
        return await FinishAsync(kept, setAside, writes, ct);
    }

    /// <summary>
    /// A repository's held Jetstream events (decoded, in <c>time_us</c> order) proven again, for
    /// <see cref="HeldCommitReleaser"/>: with the state the repository has now, until the first whose PDS still cannot be
    /// asked (it and the later ones stay held). Those at or below the stored rev (an import) are already reflected.
    /// </summary>
    public async Task<BatchVerifier.Release> PrepareReleaseAsync(RepoState state, IReadOnlyList<CommitEvent> commits, CancellationToken ct)
    {
        var setAside = new BatchOutcome();
        var done = new List<long>();
        var queue = new List<CommitEvent>();
        foreach (var commit in commits)
        {
            if (state.Rev.Length > 0 && string.CompareOrdinal(commit.Rev, state.Rev) <= 0)
            {
                setAside.Skip(Outcomes.AlreadyReflected, commit.ForumOps.Count);
                done.Add(commit.SeqNumber);
            }
            else
            {
                queue.Add(commit);
            }
        }
        var results = await ProveAsync(new Dictionary<string, List<CommitEvent>>(StringComparer.Ordinal) { [state.Did] = queue }, ct);
        var result = results[state.Did];
        foreach (var reason in result.Refused) setAside.Skip(reason);
        var waiting = new HashSet<CommitEvent>(result.Waiting, ReferenceEqualityComparer.Instance);
        done.AddRange(queue.Where(c => !waiting.Contains(c)).Select(c => c.SeqNumber));
        var kept = queue.Where(c => result.Proven.ContainsKey(c)).Select(c => (StreamEvent)result.Proven[c]).ToList();
        var prepared = await FinishAsync(kept, setAside, new RepoWrites(), ct);
        return new BatchVerifier.Release(prepared, done, StoppedOnUnavailableKey: waiting.Count > 0, StillOpen: waiting.Count == 0);
    }

    private async Task<PreparedBatch> FinishAsync(List<StreamEvent> kept, BatchOutcome setAside, RepoWrites writes, CancellationToken ct)
    {
        var authors = kept.OfType<CommitEvent>()
            .Where(c => c.ForumOps.Any(op => op.Action != ForumOp.Delete && op.Post is not null))
            .Select(c => c.Repo)
            .Distinct(StringComparer.Ordinal)
            .ToList();
        // As the relay path: new authors' handles, and linked users' handles checked again on their #identity.
        var resolved = await handles.ForBatchAsync(authors, kept.OfType<IdentityEvent>().Select(i => i.Did), ct);
        // No rev is written: a Jetstream proof is of the PDS's head, not of a relay commit.
        return new PreparedBatch(kept, NoVerdicts, resolved, setAside, writes);
    }

    /// <summary>What proving one author's commits gave: proven (with the proven record), refusals, and those left waiting.</summary>
    private sealed record AuthorResult(Dictionary<CommitEvent, CommitEvent> Proven, List<string> Refused, List<CommitEvent> Waiting, string UnavailableReason);

    /// <summary>Proves each author's commits in order, authors concurrently; an author stops at its first unavailable proof.</summary>
    private async Task<ConcurrentDictionary<string, AuthorResult>> ProveAsync(Dictionary<string, List<CommitEvent>> queues, CancellationToken ct)
    {
        var results = new ConcurrentDictionary<string, AuthorResult>(StringComparer.Ordinal);
        await Parallel.ForEachAsync(queues, new ParallelOptions { MaxDegreeOfParallelism = MaxConcurrentAuthors, CancellationToken = ct }, async (entry, token) =>
        {
            var (did, commits) = entry;
            var result = new AuthorResult(new Dictionary<CommitEvent, CommitEvent>(ReferenceEqualityComparer.Instance), [], [], "");
            results[did] = result;
            for (var i = 0; i < commits.Count; i++)
            {
                if (!options.Value.VerifyRecords)
                {
                    result.Proven[commits[i]] = commits[i];
                    continue;
                }
                var check = await prover.CheckAsync(commits[i], token);
                switch (check.Status)
                {
                    case RecordCheckStatus.Proven:
                        result.Proven[commits[i]] = check.Commit!;
                        break;
                    case RecordCheckStatus.Refused:
                        LogRefused(did, commits[i].ForumOps[0].Action, commits[i].ForumOps[0].Uri(did), check.Reason);
                        result.Refused.Add(check.Reason);
                        break;
                    default:
                        result.Waiting.AddRange(commits.Skip(i));
                        results[did] = result with { UnavailableReason = check.Reason };
                        return;
                }
            }
        });
        return results;
    }

    /// <summary>An event held behind its repository, within the per-author bound (past it: dropped and counted).</summary>
    private void Hold(string stream, CommitEvent commit, string reason, RepoState state, Dictionary<string, int> heldCounts, RepoWrites writes,
        BatchOutcome setAside)
    {
        var count = heldCounts.GetValueOrDefault(commit.Repo, state.HeldCount);
        if (count >= options.Value.MaxHeldPerAuthor || commit.Proof?.Frame is not { } json)
        {
            setAside.Skip(RecordRefusals.HeldOverLimit);
            LogOverLimit(commit.Repo, options.Value.MaxHeldPerAuthor);
            return;
        }
        heldCounts[commit.Repo] = count + 1;
        writes.Hold(commit.Repo, commit.SeqNumber, stream, json, reason, HeldFormats.Jetstream);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Jetstream {Action} {Uri} of {Did} refused: its PDS does not prove it ({Reason})")]
    private partial void LogRefused(string did, string action, string uri, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The PDS of {Did} is unavailable ({Reason}): parked, {Count} of its forum events held, asked again in {DelaySeconds} s")]
    private partial void LogHeld(string did, int count, string reason, long delaySeconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Did} already has {Max} Jetstream events held: this one is dropped (held_over_limit); an import (atsync backfill) repairs the repository")]
    private partial void LogOverLimit(string did, int max);
}
