using System.Collections.Concurrent;
using System.Text.Json;
using AtSync.AtProto.Identity;
using AtSync.AtProto.Syntax;
using Microsoft.Extensions.Logging;

namespace AtSync.Firehose.Verify;

/// <summary>Finds the handle a DID document claims (<c>alsoKnownAs: ["at://handle"]</c>); null when unknown or unreachable.</summary>
public interface IHandleResolver
{
    Task<string?> ResolveHandleAsync(string did, CancellationToken cancellationToken);
}

/// <summary>
/// The handles of DIDs that may become phpBB users, resolved in the verify stage (never network I/O inside a
/// transaction), bounded in time. The answer travels in the prepared batch; answers (including "no handle") are also
/// remembered, up to <see cref="MaxEntries"/>, so each DID is asked about once.
/// </summary>
public sealed partial class AuthorHandles(IHandleResolver resolver, ILogger<AuthorHandles> logger)
{
    public static readonly TimeSpan ResolveBudget = TimeSpan.FromSeconds(3);
    public const int MaxEntries = 50_000;
    private readonly ConcurrentDictionary<string, string?> _handles = new(StringComparer.Ordinal);

    /// <summary>The handle of each of <paramref name="dids"/> (null: none known or not resolvable in time).</summary>
    public async Task<IReadOnlyDictionary<string, string?>> ResolveAsync(IReadOnlyList<string> dids, CancellationToken cancellationToken)
    {
        var resolved = new Dictionary<string, string?>(StringComparer.Ordinal);
        var missing = new List<string>();
        foreach (var did in dids)
        {
            if (_handles.TryGetValue(did, out var known)) resolved[did] = known;
            else missing.Add(did);
        }
        if (missing.Count == 0) return resolved;
        var found = new ConcurrentDictionary<string, string?>(StringComparer.Ordinal);
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(ResolveBudget);
        await Parallel.ForEachAsync(missing, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = budget.Token }, async (did, ct) =>
        {
            try
            {
                found[did] = await resolver.ResolveHandleAsync(did, ct);
            }
            catch (Exception ex) when (ex is HttpRequestException or JsonException or OperationCanceledException or InvalidOperationException)
            {
                if (cancellationToken.IsCancellationRequested) throw;
                found[did] = null;
                LogUnresolved(did, ex.GetType().Name);
            }
        }).ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        cancellationToken.ThrowIfCancellationRequested();
        if (_handles.Count + missing.Count > MaxEntries) _handles.Clear();
        foreach (var did in missing)
        {
            var handle = found.GetValueOrDefault(did);
            resolved[did] = handle;
            _handles[did] = handle;
        }
        return resolved;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "No handle for {Did} ({Reason}); the phpBB user is named from the DID")]
    private partial void LogUnresolved(string did, string reason);
}

/// <summary>The handle a DID document claims, through AtSync.AtProto's cached <see cref="IDidResolver"/> (PLC directory / did:web).</summary>
public sealed class DidDocumentHandleResolver(IDidResolver resolver) : IHandleResolver
{
    public async Task<string?> ResolveHandleAsync(string did, CancellationToken cancellationToken)
    {
        if (!Did.TryParse(did, out var parsed)) return null;
        try
        {
            var document = await resolver.ResolveAsync(parsed, cancellationToken);
            return document.Handle?.Value.ToLowerInvariant();
        }
        catch (DidResolutionException)
        {
            return null;
        }
    }
}
