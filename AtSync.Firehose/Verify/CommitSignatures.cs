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

    /// <summary>
    /// The key cannot be had now (directory or did:web host down, slow, broken TLS; or not resolved within the
    /// deadline): no verdict yet. The commit is held and its repository parked (Repos/), never the stream.
    /// </summary>
    KeyUnavailable,
}

/// <summary>A signed commit object to check: a <c>#commit</c>'s or a <c>#sync</c>'s (null block: unusable).</summary>
public readonly record struct SignedItem(long Seq, string Did, AtSync.AtProto.EventStream.CommitBlock? Block);

/// <summary>
/// The signature verdict of each signed commit object given, against its repo's <c>#atproto</c> key, decided before a
/// batch's transaction opens. DIDs are resolved concurrently through the shared <see cref="IDidResolver"/> (the same
/// cache <see cref="AuthorHandles"/> reads) within a deadline: a DID whose document does not come in time, or whose
/// directory or host fails, gets <see cref="SignatureVerdict.KeyUnavailable"/> and holds nobody else. The resolver's
/// fetch goes on in the background (bounded by its client's timeout) and fills the cache for the retry.
/// </summary>
public sealed partial class CommitSignatures(RepoSignatureChecker checker, IOptions<FirehoseOptions> options, ILogger<CommitSignatures> logger)
{
    private const int MaxConcurrentDids = 8;

    public bool Enabled => options.Value.VerifySignatures;

    /// <summary>Forgets the cached document of DIDs whose identity changed (an <c>#identity</c> event: maybe a key rotation).</summary>
    public void IdentityChanged(IEnumerable<string> dids)
    {
        foreach (var value in dids)
        {
            if (Did.TryParse(value, out var did)) checker.IdentityChanged(did);
        }
    }

    /// <summary>
    /// The verdict per seq of each of <paramref name="items"/>; one DID's items in order (the first resolves the
    /// document, the rest read the cache), at most <paramref name="deadline"/> for all of them.
    /// </summary>
    public async Task<IReadOnlyDictionary<long, SignatureVerdict>> VerdictsAsync(IReadOnlyList<SignedItem> items, TimeSpan deadline, CancellationToken cancellationToken)
    {
        var verdicts = new System.Collections.Concurrent.ConcurrentDictionary<long, SignatureVerdict>();
        if (!Enabled)
        {
            foreach (var item in items) verdicts[item.Seq] = SignatureVerdict.NotChecked;
            return verdicts;
        }
        if (items.Count == 0) return verdicts;
        var byRepo = items.GroupBy(i => i.Did, StringComparer.Ordinal).ToList();
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(deadline);
        await Parallel.ForEachAsync(byRepo, new ParallelOptions { MaxDegreeOfParallelism = MaxConcurrentDids, CancellationToken = cancellationToken }, async (repoItems, _) =>
        {
            var unavailable = false;
            foreach (var item in repoItems)
            {
                // Once the key is unavailable, the DID's later items wait behind the first: no more lookups.
                verdicts[item.Seq] = unavailable ? SignatureVerdict.KeyUnavailable : await CheckAsync(item, budget.Token, cancellationToken);
                unavailable |= verdicts[item.Seq] == SignatureVerdict.KeyUnavailable;
            }
        });
        return verdicts;
    }

    private async Task<SignatureVerdict> CheckAsync(SignedItem item, CancellationToken budget, CancellationToken stopping)
    {
        if (item.Block is not { } signed)
        {
            LogUnverified(item.Did, item.Seq, "commit block missing or malformed");
            return SignatureVerdict.Unverifiable;
        }
        if (!string.Equals(signed.Did, item.Did, StringComparison.Ordinal))
        {
            // The commit object names another repo: its signature says nothing about this repo's ops.
            LogBadSignature(item.Did, item.Seq);
            return SignatureVerdict.Bad;
        }
        CommitSignatureCheck check;
        try
        {
            check = await checker.CheckAsync(signed, budget);
        }
        catch (OperationCanceledException) when (!stopping.IsCancellationRequested)
        {
            LogKeyUnavailable(item.Did, item.Seq, "not resolved within the deadline");
            return SignatureVerdict.KeyUnavailable;
        }
        switch (check.Status)
        {
            case CommitSignatureStatus.Valid:
                return SignatureVerdict.Valid;
            case CommitSignatureStatus.Invalid:
                LogBadSignature(item.Did, item.Seq);
                return SignatureVerdict.Bad;
            case CommitSignatureStatus.NoSigningKey:
                LogUnverified(item.Did, item.Seq, "the DID document has no usable #atproto key");
                return SignatureVerdict.Unverifiable;
            case CommitSignatureStatus.Unresolved when check.ResolutionError == DidResolutionError.Unavailable:
                // An outage is transient: skipping would lose the post for good.
                LogKeyUnavailable(item.Did, item.Seq, "the DID directory or host is unavailable: " + (check.ResolutionDetail ?? "unknown"));
                return SignatureVerdict.KeyUnavailable;
            default:
                LogUnverified(item.Did, item.Seq, $"DID not resolved ({check.ResolutionError?.ToString() ?? "unknown"})");
                return SignatureVerdict.Unverifiable;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Commit seq {Seq} of {Did}: the signature does not verify with the repo's key; its forum ops are skipped")]
    private partial void LogBadSignature(string did, long seq);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Commit seq {Seq} of {Did}: the signature could not be checked ({Reason}); its forum ops are skipped")]
    private partial void LogUnverified(string did, long seq, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Commit seq {Seq} of {Did}: signing key unavailable ({Reason}); the commit is held and the repository parked")]
    private partial void LogKeyUnavailable(string did, long seq, string reason);
}
