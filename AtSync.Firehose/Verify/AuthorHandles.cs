using System.Collections.Concurrent;
using AtSync.AtProto.Identity;
using AtSync.AtProto.Syntax;
using Microsoft.Extensions.Logging;

namespace AtSync.Firehose.Verify;

/// <summary>Checks the handle a DID document claims both ways (the handle resolves back to the DID).</summary>
public interface IHandleResolver
{
    /// <summary>The verdict for <paramref name="did"/>'s handle; <paramref name="refresh"/> fetches the DID document anew (after <c>#identity</c>).</summary>
    Task<HandleVerdict> VerifyAsync(Did did, bool refresh, CancellationToken cancellationToken);
}

/// <summary>
/// The verified handles of DIDs, decided in the verify stage (never network I/O inside a transaction), bounded in time.
/// A handle counts only when it resolves back to the DID (<see cref="HandleResolver"/>: DNS TXT or HTTPS well-known);
/// otherwise the DID has no handle to show (null) and its phpBB name is derived from the DID. The answer travels in
/// the prepared batch. Definitive answers are remembered, up to <see cref="MaxEntries"/>, until an <c>#identity</c>
/// event re-checks them (<see cref="RecheckAsync"/>).
/// </summary>
public sealed partial class AuthorHandles(IHandleResolver resolver, LinkedDids linked, FirehoseMetrics metrics, ILogger<AuthorHandles> logger)
{
    public static readonly TimeSpan ResolveBudget = TimeSpan.FromSeconds(3);
    public const int MaxEntries = 50_000;
    private const int MaxConcurrentDids = 8;
    private readonly ConcurrentDictionary<string, string?> _handles = new(StringComparer.Ordinal);

    /// <summary>
    /// What a batch needs: the verified handles of <paramref name="authors"/> (who may become phpBB users), and of the
    /// forum users among <paramref name="identityChanged"/> (DIDs with an <c>#identity</c> in the batch), checked again.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, string?>> ForBatchAsync(IReadOnlyList<string> authors, IEnumerable<string> identityChanged, CancellationToken ct)
    {
        var resolved = new Dictionary<string, string?>(StringComparer.Ordinal);
        if (authors.Count > 0)
        {
            foreach (var (did, handle) in await ResolveAsync(authors, ct)) resolved[did] = handle;
        }
        var changed = identityChanged.Distinct(StringComparer.Ordinal).ToList();
        if (changed.Count == 0) return resolved;
        // Only the forum's own users: the relay announces every account's identity changes.
        var users = await linked.LinkedAsync(changed, ct);
        var recheck = changed.Where(users.Contains).ToList();
        if (recheck.Count == 0) return resolved;
        // A re-checked DID missing from the answer could not be checked now: the apply stage keeps its name.
        foreach (var did in recheck) resolved.Remove(did);
        foreach (var (did, handle) in await RecheckAsync(recheck, ct)) resolved[did] = handle;
        return resolved;
    }

    /// <summary>The verified handle of each of <paramref name="dids"/> (null: none, not verified, or not checkable in time).</summary>
    public async Task<IReadOnlyDictionary<string, string?>> ResolveAsync(IReadOnlyList<string> dids, CancellationToken cancellationToken)
    {
        var resolved = new Dictionary<string, string?>(StringComparer.Ordinal);
        var missing = new List<string>();
        foreach (var did in dids)
        {
            if (_handles.TryGetValue(did, out var known)) resolved[did] = known;
            else missing.Add(did);
        }
        foreach (var (did, verdict) in await CheckAsync(missing, refresh: false, cancellationToken))
        {
            resolved[did] = verdict?.Verified?.Value;
        }
        return resolved;
    }

    /// <summary>
    /// After <c>#identity</c>: the DID documents are fetched again and their handles checked. Only DIDs with a verdict
    /// are in the answer (verified handle, or null when the handle does not resolve back); a DID whose check could not
    /// be made now is left out, so its phpBB name stays as it is.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, string?>> RecheckAsync(IReadOnlyList<string> dids, CancellationToken cancellationToken)
    {
        foreach (var did in dids) _handles.TryRemove(did, out _);
        var answer = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var (did, verdict) in await CheckAsync(dids, refresh: true, cancellationToken))
        {
            if (verdict is not null) answer[did] = verdict.Verified?.Value;
        }
        return answer;
    }

    /// <summary>The verdict per DID; null for a DID whose handle could not be checked (unavailable, out of time).</summary>
    private async Task<IReadOnlyDictionary<string, HandleVerdict?>> CheckAsync(IReadOnlyList<string> dids, bool refresh, CancellationToken cancellationToken)
    {
        var found = new ConcurrentDictionary<string, HandleVerdict?>(StringComparer.Ordinal);
        if (dids.Count == 0) return found;
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(ResolveBudget);
        await Parallel.ForEachAsync(dids, new ParallelOptions { MaxDegreeOfParallelism = MaxConcurrentDids, CancellationToken = budget.Token }, async (did, ct) =>
        {
            HandleVerdict? verdict = null;
            try
            {
                if (Did.TryParse(did, out var parsed)) verdict = await resolver.VerifyAsync(parsed, refresh, ct);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
            }
            found[did] = verdict is { Status: HandleStatus.Unavailable } ? null : verdict;
            Record(did, verdict);
        }).ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        cancellationToken.ThrowIfCancellationRequested();
        if (_handles.Count + dids.Count > MaxEntries) _handles.Clear();
        foreach (var did in dids)
        {
            // Only definitive answers are remembered; an unchecked DID is asked again next time.
            if (found.GetValueOrDefault(did) is { } verdict) _handles[did] = verdict.Verified?.Value;
        }
        return found;
    }

    private void Record(string did, HandleVerdict? verdict)
    {
        var status = verdict?.Status ?? HandleStatus.Unavailable;
        metrics.HandleChecked(status switch
        {
            HandleStatus.Verified => "verified",
            HandleStatus.NotClaimed => "none",
            HandleStatus.NotResolvingBack => "not_resolving_back",
            _ => "unavailable",
        });
        if (status == HandleStatus.NotResolvingBack) LogNotResolvingBack(did, verdict!.Claimed?.Value ?? "");
        else if (status == HandleStatus.Unavailable) LogUnavailable(did);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Did} claims the handle {Handle}, which does not resolve back to it; the phpBB user is named from the DID")]
    private partial void LogNotResolvingBack(string did, string handle);

    [LoggerMessage(Level = LogLevel.Information, Message = "The handle of {Did} could not be checked now; its phpBB name is derived from the DID or left as it is")]
    private partial void LogUnavailable(string did);
}

/// <summary>
/// The DID document (through AtSync.AtProto's cached <see cref="IDidResolver"/>), then its handle checked both ways by
/// <see cref="HandleResolver"/>. A DID that cannot be resolved for good has no handle; an outage is no verdict.
/// </summary>
public sealed class DidDocumentHandleResolver(IDidResolver dids, HandleResolver handles) : IHandleResolver
{
    public async Task<HandleVerdict> VerifyAsync(Did did, bool refresh, CancellationToken cancellationToken)
    {
        DidDocument document;
        try
        {
            document = refresh ? await dids.RefreshAsync(did, cancellationToken) : await dids.ResolveAsync(did, cancellationToken);
        }
        catch (DidResolutionException ex)
        {
            return new HandleVerdict(did, null, ex.IsTransient ? HandleStatus.Unavailable : HandleStatus.NotClaimed);
        }
        return await handles.VerifyAsync(document, cancellationToken);
    }
}
