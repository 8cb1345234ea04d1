using AtSync.AtProto.Identity;
using AtSync.AtProto.Syntax;
using AtSync.Firehose.Events;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AtSync.Firehose.Verify;

/// <summary>What the verify stage decided about a commit's signature.</summary>
public enum SignatureVerdict
{
    /// <summary>Verification is off (<c>Firehose__VerifySignatures=false</c>): applied unchecked.</summary>
    NotChecked,

    /// <summary>Verifies with the repo's <c>#atproto</c> key: applied.</summary>
    Valid,

    /// <summary>Does not verify (or the commit names another repo): its forum ops are skipped as <see cref="Outcomes.BadSignature"/>.</summary>
    Bad,

    /// <summary>Cannot be checked (DID unknown or tombstoned, no key, commit block unusable): skipped as <see cref="Outcomes.UnverifiedSignature"/>.</summary>
    Unverifiable,
}

/// <summary>
/// The signature verdict of every commit carrying forum ops, decided before a batch's transaction opens against the
/// repo's <c>#atproto</c> key. Commits without forum ops are never checked. DIDs are resolved concurrently, within
/// <see cref="VerifyBudget"/>, through the shared <see cref="IDidResolver"/> (the same cache <see cref="AuthorHandles"/>
/// reads). A directory outage is no verdict: <see cref="SigningKeysUnavailableException"/> holds the batch.
/// </summary>
public sealed partial class CommitSignatures(RepoSignatureChecker checker, IOptions<FirehoseOptions> options, ILogger<CommitSignatures> logger)
{
    public static readonly TimeSpan VerifyBudget = TimeSpan.FromSeconds(5);
    private const int MaxConcurrentDids = 8;

    public bool Enabled => options.Value.VerifySignatures;

    /// <summary>The verdict per seq of each commit in <paramref name="events"/> that carries forum ops.</summary>
    public async Task<IReadOnlyDictionary<long, SignatureVerdict>> VerdictsAsync(IReadOnlyList<StreamEvent> events, CancellationToken cancellationToken)
    {
        // A key rotation announced in this batch: forget the cached document (and the refresh limit) before checking.
        foreach (var identity in events.OfType<IdentityEvent>())
        {
            if (Did.TryParse(identity.Did, out var did)) checker.IdentityChanged(did);
        }
        var byRepo = events.OfType<CommitEvent>()
            .Where(c => c.ForumOps.Count > 0)
            .GroupBy(c => c.Repo, StringComparer.Ordinal)
            .ToList();
        var verdicts = new System.Collections.Concurrent.ConcurrentDictionary<long, SignatureVerdict>();
        if (!Enabled)
        {
            foreach (var commit in byRepo.SelectMany(g => g)) verdicts[commit.SeqNumber] = SignatureVerdict.NotChecked;
            return verdicts;
        }
        if (byRepo.Count == 0) return verdicts;

        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(VerifyBudget);
        await Parallel.ForEachAsync(byRepo, new ParallelOptions { MaxDegreeOfParallelism = MaxConcurrentDids, CancellationToken = cancellationToken }, async (commits, _) =>
        {
            // One repo's commits in order: the first resolves the document, the rest read the cache.
            foreach (var commit in commits)
            {
                verdicts[commit.SeqNumber] = await CheckAsync(commit, budget.Token, cancellationToken);
            }
        });
        return verdicts;
    }

    private async Task<SignatureVerdict> CheckAsync(CommitEvent commit, CancellationToken budget, CancellationToken stopping)
    {
        if (commit.SignedCommit is not { } signed)
        {
            LogUnverified(commit.Repo, commit.SeqNumber, "commit block missing or malformed");
            return SignatureVerdict.Unverifiable;
        }
        if (!string.Equals(signed.Did, commit.Repo, StringComparison.Ordinal))
        {
            // The commit object names another repo: its signature says nothing about this repo's ops.
            LogBadSignature(commit.Repo, commit.SeqNumber);
            return SignatureVerdict.Bad;
        }
        CommitSignatureCheck check;
        try
        {
            check = await checker.CheckAsync(signed, budget);
        }
        catch (OperationCanceledException) when (!stopping.IsCancellationRequested)
        {
            // The directory is slow, not wrong: hold the batch and try again rather than lose the post.
            throw new SigningKeysUnavailableException(commit.Repo, "DID resolution timed out");
        }
        switch (check.Status)
        {
            case CommitSignatureStatus.Valid:
                return SignatureVerdict.Valid;
            case CommitSignatureStatus.Invalid:
                LogBadSignature(commit.Repo, commit.SeqNumber);
                return SignatureVerdict.Bad;
            case CommitSignatureStatus.NoSigningKey:
                LogUnverified(commit.Repo, commit.SeqNumber, "the DID document has no usable #atproto key");
                return SignatureVerdict.Unverifiable;
            case CommitSignatureStatus.Unresolved when check.ResolutionError == DidResolutionError.Unavailable:
                // A directory outage is transient: skipping would lose the post for good.
                throw new SigningKeysUnavailableException(commit.Repo, "the DID directory is unavailable");
            default:
                LogUnverified(commit.Repo, commit.SeqNumber, $"DID not resolved ({check.ResolutionError?.ToString() ?? "unknown"})");
                return SignatureVerdict.Unverifiable;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Commit seq {Seq} of {Did}: the signature does not verify with the repo's key; its forum ops are skipped")]
    private partial void LogBadSignature(string did, long seq);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Commit seq {Seq} of {Did}: the signature could not be checked ({Reason}); its forum ops are skipped")]
    private partial void LogUnverified(string did, long seq, string reason);
}
