using System.Collections.Concurrent;

namespace AtSync.AtProto.OAuth;

/// <summary>
/// The latest <c>DPoP-Nonce</c> each server (origin) gave. Servers rotate nonces, so every response's header
/// replaces the one kept. Bounded: at most <see cref="Capacity"/> origins, the cache is emptied when full (a missing
/// nonce costs one <c>use_dpop_nonce</c> round trip, nothing more).
/// </summary>
public sealed class DpopNonceCache(int capacity = 10_000)
{
    /// <summary>Longest nonce kept (servers' nonces are short; anything longer is ignored).</summary>
    public const int MaxNonceLength = 512;

    private readonly ConcurrentDictionary<string, string> _nonces = new(StringComparer.Ordinal);

    public int Capacity { get; } = capacity > 0 ? capacity : throw new ArgumentOutOfRangeException(nameof(capacity));

    public string? Get(Uri url) => _nonces.TryGetValue(Origin(url), out var nonce) ? nonce : null;

    /// <summary>Keeps the nonce of <paramref name="response"/> (if any) for its request's origin; true when it had one.</summary>
    public bool Update(Uri url, HttpResponseMessage response)
    {
        ArgumentNullException.ThrowIfNull(response);
        if (!response.Headers.TryGetValues(DpopProof.NonceHeaderName, out var values)) return false;
        var nonce = values.FirstOrDefault();
        if (string.IsNullOrEmpty(nonce) || nonce.Length > MaxNonceLength || nonce.Any(c => c is < '!' or > '~')) return false;
        if (_nonces.Count >= Capacity) _nonces.Clear();
        _nonces[Origin(url)] = nonce;
        return true;
    }

    private static string Origin(Uri url) => url.GetLeftPart(UriPartial.Authority);
}
