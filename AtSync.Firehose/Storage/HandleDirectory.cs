using System.Collections.Concurrent;
using System.Text.Json;
using AtSync.AtProto.Identity;
using AtSync.AtProto.Syntax;
using Microsoft.Extensions.Logging;

namespace AtSync.Firehose.Storage;

/// <summary>Finds the handle a DID document claims (<c>alsoKnownAs: ["at://handle"]</c>); null when unknown or unreachable.</summary>
public interface IHandleResolver
{
    Task<string?> ResolveHandleAsync(string did, CancellationToken cancellationToken);
}

/// <summary>
/// The handles of DIDs about to become phpBB users, resolved before a batch's transaction opens (never network I/O
/// inside a transaction), bounded in time; remembered, including "no handle", so each DID is asked about once.
/// </summary>
public sealed partial class HandleDirectory(IHandleResolver resolver, ILogger<HandleDirectory> logger)
{
    public static readonly TimeSpan ResolveBudget = TimeSpan.FromSeconds(3);
    private const int MaxEntries = 50_000;
    private readonly ConcurrentDictionary<string, string?> _handles = new(StringComparer.Ordinal);

    /// <summary>The handle found earlier, or null.</summary>
    public string? Known(string did) => _handles.TryGetValue(did, out var handle) ? handle : null;

    public void Remember(string did, string? handle)
    {
        if (_handles.Count >= MaxEntries) _handles.Clear();
        _handles[did] = handle;
    }

    public async Task PrefetchAsync(IReadOnlyList<string> dids, CancellationToken cancellationToken)
    {
        var missing = dids.Where(did => !_handles.ContainsKey(did)).ToList();
        if (missing.Count == 0) return;
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(ResolveBudget);
        await Parallel.ForEachAsync(missing, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = budget.Token }, async (did, ct) =>
        {
            try
            {
                Remember(did, await resolver.ResolveHandleAsync(did, ct).ConfigureAwait(false));
            }
            catch (Exception ex) when (ex is HttpRequestException or JsonException or OperationCanceledException or InvalidOperationException)
            {
                if (cancellationToken.IsCancellationRequested) throw;
                Remember(did, null);
                LogUnresolved(did, ex.GetType().Name);
            }
        }).ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        foreach (var did in missing) _handles.TryAdd(did, null);
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
            var document = await resolver.ResolveAsync(parsed, cancellationToken).ConfigureAwait(false);
            return document.Handle?.Value.ToLowerInvariant();
        }
        catch (DidResolutionException)
        {
            return null;
        }
    }
}
