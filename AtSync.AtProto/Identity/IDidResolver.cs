using AtSync.AtProto.Syntax;

namespace AtSync.AtProto.Identity;

/// <summary>Resolves DIDs to documents, with a cache.</summary>
public interface IDidResolver
{
    /// <summary>The document, from the cache when fresh. Throws <see cref="DidResolutionException"/>.</summary>
    Task<DidDocument> ResolveAsync(Did did, CancellationToken cancellationToken = default);

    /// <summary>Fetches the document again (e.g. after an <c>#identity</c> event or a failed signature) and caches it.</summary>
    Task<DidDocument> RefreshAsync(Did did, CancellationToken cancellationToken = default);

    /// <summary>Drops a cached document.</summary>
    void Invalidate(Did did);
}
