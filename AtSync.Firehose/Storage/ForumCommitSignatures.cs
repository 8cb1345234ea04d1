using AtSync.AtProto.Identity;
using AtSync.AtProto.Syntax;
using AtSync.Firehose.Events;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AtSync.Firehose.Storage;

/// <summary>
/// Decides, before a batch's transaction opens, which commits carrying forum ops are not applied because their
/// signature does not verify against the repo's <c>#atproto</c> key (<see cref="Outcomes.BadSignature"/>) or cannot be
/// checked (<see cref="Outcomes.UnverifiedSignature"/>: DID unresolved, no signing key, commit block unusable).
/// Commits without forum ops are never checked. DIDs are resolved concurrently, within <see cref="VerifyBudget"/>,
/// through the shared <see cref="IDidResolver"/> (the same cache <see cref="HandleDirectory"/> reads).
/// </summary>
public sealed partial class ForumCommitSignatures(RepoSignatureChecker checker, IOptions<FirehoseOptions> options, ILogger<ForumCommitSignatures> logger)
{
    public static readonly TimeSpan VerifyBudget = TimeSpan.FromSeconds(5);
    private const int MaxConcurrentDids = 8;

    public bool Enabled => options.Value.VerifySignatures;

    /// <summary>The seqs of commits in <paramref name="events"/> whose forum ops must be skipped, with the skip reason.</summary>
    public async Task<IReadOnlyDictionary<long, string>> RejectedAsync(IReadOnlyList<StreamEvent> events, CancellationToken cancellationToken)
    {
        if (!Enabled) return new Dictionary<long, string>();
        // A key rotation announced in this batch: forget the cached document (and the refresh limit) before checking.
        foreach (var identity in events.OfType<IdentityEvent>())
        {
            if (Did.TryParse(identity.Did, out var did)) checker.IdentityChanged(did);
        }
        var byRepo = events.OfType<CommitEvent>()
            .Where(c => c.ForumOps.Count > 0)
            .GroupBy(c => c.Repo, StringComparer.Ordinal)
            .ToList();
        var rejected = new System.Collections.Concurrent.ConcurrentDictionary<long, string>();
        if (byRepo.Count == 0) return rejected;

        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(VerifyBudget);
        await Parallel.ForEachAsync(byRepo, new ParallelOptions { MaxDegreeOfParallelism = MaxConcurrentDids, CancellationToken = cancellationToken }, async (commits, _) =>
        {
            // One repo's commits in order: the first resolves the document, the rest read the cache.
            foreach (var commit in commits)
            {
                var reason = await CheckAsync(commit, budget.Token, cancellationToken).ConfigureAwait(false);
                if (reason is not null) rejected[commit.SeqNumber] = reason;
            }
        }).ConfigureAwait(false);
        return rejected;
    }

    /// <summary>Null when the commit may be applied, else the skip reason.</summary>
    private async Task<string?> CheckAsync(CommitEvent commit, CancellationToken budget, CancellationToken stopping)
    {
        if (commit.SignedCommit is not { } signed)
        {
            LogUnverified(commit.Repo, commit.SeqNumber, "commit block missing or malformed");
            return Outcomes.UnverifiedSignature;
        }
        if (!string.Equals(signed.Did, commit.Repo, StringComparison.Ordinal))
        {
            // The commit object names another repo: its signature says nothing about this repo's ops.
            LogBadSignature(commit.Repo, commit.SeqNumber);
            return Outcomes.BadSignature;
        }
        CommitSignatureCheck check;
        try
        {
            check = await checker.CheckAsync(signed, budget).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!stopping.IsCancellationRequested)
        {
            // The directory is slow, not wrong: hold the batch and try again rather than lose the post.
            throw new SigningKeysUnavailableException(commit.Repo, "DID resolution timed out");
        }
        switch (check.Status)
        {
            case CommitSignatureStatus.Valid:
                return null;
            case CommitSignatureStatus.Invalid:
                LogBadSignature(commit.Repo, commit.SeqNumber);
                return Outcomes.BadSignature;
            case CommitSignatureStatus.NoSigningKey:
                LogUnverified(commit.Repo, commit.SeqNumber, "the DID document has no usable #atproto key");
                return Outcomes.UnverifiedSignature;
            case CommitSignatureStatus.Unresolved when check.ResolutionError == DidResolutionError.Unavailable:
                // A directory outage is transient: skipping would lose the post for good.
                throw new SigningKeysUnavailableException(commit.Repo, "the DID directory is unavailable");
            default:
                LogUnverified(commit.Repo, commit.SeqNumber, $"DID not resolved ({check.ResolutionError?.ToString() ?? "unknown"})");
                return Outcomes.UnverifiedSignature;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Commit seq {Seq} of {Did}: the signature does not verify with the repo's key; its forum ops are skipped")]
    private partial void LogBadSignature(string did, long seq);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Commit seq {Seq} of {Did}: the signature could not be checked ({Reason}); its forum ops are skipped")]
    private partial void LogUnverified(string did, long seq, string reason);
}

/// <summary>
/// A commit's signing key cannot be had right now (directory unavailable or too slow). The batch is retried with
/// backoff, holding the stream (backpressure) rather than skipping posts; permanent outcomes (unknown or tombstoned
/// DID, no key, bad signature) are skipped instead.
/// </summary>
public sealed class SigningKeysUnavailableException(string did, string reason)
    : Exception($"Signing key of {did} unavailable: {reason}");
