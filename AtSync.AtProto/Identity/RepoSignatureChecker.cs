using System.Collections.Concurrent;
using AtSync.AtProto.Crypto;
using AtSync.AtProto.EventStream;
using AtSync.AtProto.Syntax;

namespace AtSync.AtProto.Identity;

public enum CommitSignatureStatus
{
    /// <summary>The signature verifies with the repo's current <c>#atproto</c> key.</summary>
    Valid,

    /// <summary>The signature does not verify (also after re-fetching the DID document, when allowed).</summary>
    Invalid,

    /// <summary>The DID document has no usable <c>#atproto</c> key.</summary>
    NoSigningKey,

    /// <summary>The DID could not be resolved; <see cref="CommitSignatureCheck.ResolutionError"/> says why.</summary>
    Unresolved,
}

/// <summary>The outcome of checking one commit's signature.</summary>
public sealed record CommitSignatureCheck(CommitSignatureStatus Status, DidDocument? Document, DidResolutionError? ResolutionError = null, string? ResolutionDetail = null)
{
    public bool IsValid => Status == CommitSignatureStatus.Valid;
}

/// <summary>
/// Verifies repo commit signatures with keys from DID documents. Keys rotate: when a signature fails with a cached
/// document, the document is fetched again (at most once per DID per <see cref="MinRefreshInterval"/>, so a stream
/// of bad signatures cannot flood the directory) and the check repeated.
/// </summary>
public sealed class RepoSignatureChecker
{
    private const int MaxTrackedRefreshes = 50_000;

    private readonly IDidResolver _resolver;
    private readonly ICommitSignatureVerifier _verifier;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, DateTimeOffset> _lastRefresh = new(StringComparer.Ordinal);

    public RepoSignatureChecker(IDidResolver resolver, ICommitSignatureVerifier? verifier = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(resolver);
        _resolver = resolver;
        _verifier = verifier ?? CommitSignatureVerifier.Instance;
        _time = timeProvider ?? TimeProvider.System;
    }

    public TimeSpan MinRefreshInterval { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Checks a decoded commit object's <c>sig</c> against its <c>did</c>'s key.</summary>
    public Task<CommitSignatureCheck> CheckAsync(CommitBlock commit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(commit);
        if (!Did.TryParse(commit.Did, out var repo))
        {
            return Task.FromResult(new CommitSignatureCheck(CommitSignatureStatus.Unresolved, null, DidResolutionError.UnsupportedDid));
        }
        return CheckAsync(repo, commit.GetUnsignedBytes(), commit.Signature, cancellationToken);
    }

    public async Task<CommitSignatureCheck> CheckAsync(Did repo, ReadOnlyMemory<byte> unsignedCommit, ReadOnlyMemory<byte> signature, CancellationToken cancellationToken = default)
    {
        DidDocument doc;
        try
        {
            doc = await _resolver.ResolveAsync(repo, cancellationToken).ConfigureAwait(false);
        }
        catch (DidResolutionException ex)
        {
            return new CommitSignatureCheck(CommitSignatureStatus.Unresolved, null, ex.Error, ex.Detail);
        }

        var first = Verify(doc, unsignedCommit.Span, signature.Span);
        if (first.IsValid || !MayRefresh(repo))
        {
            return first;
        }

        try
        {
            doc = await _resolver.RefreshAsync(repo, cancellationToken).ConfigureAwait(false);
        }
        catch (DidResolutionException ex)
        {
            return new CommitSignatureCheck(CommitSignatureStatus.Unresolved, null, ex.Error, ex.Detail);
        }
        return Verify(doc, unsignedCommit.Span, signature.Span);
    }

    /// <summary>Forgets refresh history for a DID (e.g. on an <c>#identity</c> event, after invalidating the cache).</summary>
    public void IdentityChanged(Did repo)
    {
        _lastRefresh.TryRemove(repo.Value, out _);
        _resolver.Invalidate(repo);
    }

    private CommitSignatureCheck Verify(DidDocument doc, ReadOnlySpan<byte> unsignedCommit, ReadOnlySpan<byte> signature)
    {
        if (doc.SigningKey is not { } key)
        {
            return new CommitSignatureCheck(CommitSignatureStatus.NoSigningKey, doc);
        }
        return new CommitSignatureCheck(
            _verifier.Verify(unsignedCommit, signature, key) ? CommitSignatureStatus.Valid : CommitSignatureStatus.Invalid, doc);
    }

    private bool MayRefresh(Did repo)
    {
        var now = _time.GetUtcNow();
        if (_lastRefresh.TryGetValue(repo.Value, out var last) && now - last < MinRefreshInterval)
        {
            return false;
        }
        if (_lastRefresh.Count >= MaxTrackedRefreshes)
        {
            _lastRefresh.Clear(); // bounded memory; worst case a few extra refreshes
        }
        _lastRefresh[repo.Value] = now;
        return true;
    }
}
