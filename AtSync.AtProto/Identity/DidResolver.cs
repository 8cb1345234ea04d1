using System.Net;
using AtSync.AtProto.Syntax;

namespace AtSync.AtProto.Identity;

/// <summary>
/// Resolves <c>did:plc</c> (<c>GET {PlcDirectory}/{did}</c>) and <c>did:web</c> (<c>GET https://{host}/.well-known/did.json</c>)
/// over an injected <see cref="HttpClient"/>, keeping up to <see cref="DidResolverOptions.CacheCapacity"/> documents for
/// <see cref="DidResolverOptions.CacheTtl"/>. Concurrent requests for the same DID share one fetch, at most
/// <see cref="DidResolverOptions.MaxConcurrentFetches"/> fetches run at once, a document is read up to
/// <see cref="DidDocument.MaxBytes"/> (streamed), and failures are remembered for <see cref="DidResolverOptions.NegativeCacheTtl"/>
/// (<see cref="DidResolverOptions.UnavailableCacheTtl"/> for outages). For documents from the network, give it an
/// <see cref="HttpClient"/> over <see cref="IdentityHttpHandler"/> (no redirects, no private addresses) with a timeout.
/// </summary>
/// <remarks>
/// The cache lives in the instance: register it as a singleton (not as a transient typed client), e.g.
/// <c>services.AddSingleton&lt;IDidResolver&gt;(sp =&gt; new DidResolver(sp.GetRequiredService&lt;IHttpClientFactory&gt;().CreateClient("plc"), options, sp.GetRequiredService&lt;TimeProvider&gt;()))</c>.
/// </remarks>
public sealed class DidResolver : IDidResolver
{
    private readonly HttpClient _http;
    private readonly DidResolverOptions _options;
    private readonly TimeProvider _time;
    private readonly BoundedCache _cache;
    private readonly Dictionary<string, Task<DidDocument>> _inFlight = new(StringComparer.Ordinal);
    private readonly Lock _inFlightLock = new();
    private readonly Dictionary<string, (DidResolutionException Error, DateTimeOffset Until)> _failures = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _fetchSlots;

    public DidResolver(HttpClient httpClient, DidResolverOptions? options = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        _http = httpClient;
        _options = options ?? new DidResolverOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.CacheCapacity, 1, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.CacheTtl, TimeSpan.Zero, nameof(options));
        if (!_options.PlcDirectory.IsAbsoluteUri || _options.PlcDirectory.Scheme is not ("http" or "https"))
        {
            throw new ArgumentException("PlcDirectory must be an absolute http(s) URL.", nameof(options));
        }
        if (_options.DidWebScheme is not ("http" or "https"))
        {
            throw new ArgumentException("DidWebScheme must be http or https.", nameof(options));
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.MaxConcurrentFetches, 1, nameof(options));
        _time = timeProvider ?? TimeProvider.System;
        _cache = new BoundedCache(_options.CacheCapacity);
        _fetchSlots = new SemaphoreSlim(_options.MaxConcurrentFetches, _options.MaxConcurrentFetches);
    }

    /// <summary>Documents currently cached (fresh or stale).</summary>
    public int CachedCount => _cache.Count;

    public Task<DidDocument> ResolveAsync(Did did, CancellationToken cancellationToken = default)
    {
        var now = _time.GetUtcNow();
        if (_cache.TryGet(did.Value, now, out var cached))
        {
            return Task.FromResult(cached);
        }
        if (RememberedFailure(did, now) is { } failure)
        {
            return Task.FromException<DidDocument>(failure);
        }
        return FetchSharedAsync(did, cancellationToken);
    }

    public Task<DidDocument> RefreshAsync(Did did, CancellationToken cancellationToken = default)
    {
        Invalidate(did);
        return FetchSharedAsync(did, cancellationToken);
    }

    public void Invalidate(Did did)
    {
        _cache.Remove(did.Value);
        lock (_failures)
        {
            _failures.Remove(did.Value);
        }
    }

    private DidResolutionException? RememberedFailure(Did did, DateTimeOffset now)
    {
        lock (_failures)
        {
            if (!_failures.TryGetValue(did.Value, out var entry)) return null;
            if (entry.Until > now) return entry.Error;
            _failures.Remove(did.Value);
            return null;
        }
    }

    private void RememberFailure(Did did, DidResolutionException error)
    {
        var ttl = error.IsTransient ? _options.UnavailableCacheTtl : _options.NegativeCacheTtl;
        if (ttl <= TimeSpan.Zero) return;
        lock (_failures)
        {
            // Bounded like the document cache; a flood of failing DIDs only forgets failures early.
            if (_failures.Count >= _options.CacheCapacity) _failures.Clear();
            _failures[did.Value] = (error, _time.GetUtcNow() + ttl);
        }
    }

    private Task<DidDocument> FetchSharedAsync(Did did, CancellationToken cancellationToken)
    {
        Task<DidDocument> task;
        lock (_inFlightLock)
        {
            if (!_inFlight.TryGetValue(did.Value, out task!))
            {
                // The shared fetch is bounded by HttpClient.Timeout, not by any one caller's token.
                task = FetchAndCacheAsync(did);
                _inFlight[did.Value] = task;
            }
        }
        return task.WaitAsync(cancellationToken);
    }

    private async Task<DidDocument> FetchAndCacheAsync(Did did)
    {
        await Task.Yield();
        var slot = false;
        try
        {
            // Bounded by HttpClient.Timeout per fetch: a slot is never held longer than one fetch.
            await _fetchSlots.WaitAsync().ConfigureAwait(false);
            slot = true;
            var doc = await FetchAsync(did).ConfigureAwait(false);
            _cache.Set(did.Value, doc, _time.GetUtcNow() + _options.CacheTtl);
            return doc;
        }
        catch (DidResolutionException ex)
        {
            RememberFailure(did, ex);
            throw;
        }
        finally
        {
            if (slot) _fetchSlots.Release();
            lock (_inFlightLock)
            {
                _inFlight.Remove(did.Value);
            }
        }
    }

    /// <summary>Where the document of <paramref name="did"/> is fetched from.</summary>
    public Uri DocumentUrl(Did did)
    {
        if (did.IsPlc)
        {
            var id = did.Identifier;
            if (id.Length != 24 || !id.All(c => c is (>= 'a' and <= 'z') or (>= '2' and <= '7')))
            {
                throw new DidResolutionException(did, DidResolutionError.UnsupportedDid, "a did:plc identifier is 24 base32 characters");
            }
            return new Uri(_options.PlcDirectory.GetLeftPart(UriPartial.Path).TrimEnd('/') + "/" + did.Value, UriKind.Absolute);
        }
        if (did.IsWeb)
        {
            var host = did.Identifier.Replace("%3A", ":", StringComparison.OrdinalIgnoreCase);
            var colon = host.IndexOf(':');
            var name = colon < 0 ? host : host[..colon];
            var portOk = colon < 0 || (ushort.TryParse(host[(colon + 1)..], System.Globalization.NumberStyles.None, null, out var port) && port > 0);
            if (host.Contains('%') || !portOk || Uri.CheckHostName(name) is UriHostNameType.Unknown or UriHostNameType.Basic)
            {
                throw new DidResolutionException(did, DidResolutionError.UnsupportedDid, "did:web must name a host (optionally %3A port), without a path");
            }
            return new Uri($"{_options.DidWebScheme}://{host}/.well-known/did.json", UriKind.Absolute);
        }
        throw new DidResolutionException(did, DidResolutionError.UnsupportedDid, $"method '{did.Method}' is not supported (plc and web are)");
    }

    private async Task<DidDocument> FetchAsync(Did did)
    {
        var url = DocumentUrl(did);
        HttpResponseMessage response;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.Accept.ParseAdd("application/did+ld+json, application/json");
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).ConfigureAwait(false);
        }
        catch (HttpRequestException ex) when (IdentityHttpHandler.IsRefusal(ex))
        {
            throw new DidResolutionException(did, DidResolutionError.Refused, "the host resolves to a non-public address", null, ex);
        }
        catch (HttpRequestException ex)
        {
            throw new DidResolutionException(did, DidResolutionError.Unavailable, "request failed: " + Describe(ex), null, ex);
        }
        catch (OperationCanceledException ex)
        {
            throw new DidResolutionException(did, DidResolutionError.Unavailable, "timed out", null, ex);
        }
        catch (Exception ex) when (ex is not DidResolutionException)
        {
            // A resilience handler gave up (Polly timeout, open circuit breaker, rate limiter) or another handler failed.
            throw new DidResolutionException(did, DidResolutionError.Unavailable, "request failed: " + ex.GetType().Name, null, ex);
        }

        using (response)
        {
            var status = response.StatusCode;
            switch (status)
            {
                case HttpStatusCode.NotFound:
                    throw new DidResolutionException(did, DidResolutionError.NotFound, "no such DID", status);
                case HttpStatusCode.Gone:
                    throw new DidResolutionException(did, DidResolutionError.Tombstoned, "the DID is deactivated", status);
                case >= HttpStatusCode.OK and < HttpStatusCode.MultipleChoices:
                    break;
                case >= HttpStatusCode.MultipleChoices and < HttpStatusCode.BadRequest when _options.RefuseRedirects:
                    // Identity documents are served where the DID says; a redirect (possibly to a private address) is not followed.
                    throw new DidResolutionException(did, DidResolutionError.Refused, $"HTTP {(int)status}: redirects are not followed", status);
                default:
                    throw new DidResolutionException(did, DidResolutionError.Unavailable, $"HTTP {(int)status}", status);
            }

            byte[] body;
            try
            {
                body = await ReadBoundedAsync(response.Content, DidDocument.MaxBytes).ConfigureAwait(false)
                    ?? throw new DidResolutionException(did, DidResolutionError.InvalidDocument, $"the document is larger than {DidDocument.MaxBytes} bytes", status);
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException)
            {
                throw new DidResolutionException(did, DidResolutionError.Unavailable, "reading the document failed", status, ex);
            }

            DidDocument doc;
            try
            {
                doc = DidDocument.Parse(body);
            }
            catch (DidDocumentException ex)
            {
                throw new DidResolutionException(did, DidResolutionError.InvalidDocument, ex.Message, status, ex);
            }
            if (doc.Id != did)
            {
                throw new DidResolutionException(did, DidResolutionError.InvalidDocument, $"the document is for {doc.Id}", status);
            }
            return doc;
        }
    }

    /// <summary>
    /// The kind of failure and the innermost cause as .NET's socket and TLS layers word it (<c>SecureConnectionError
    /// (… UntrustedRoot)</c>, <c>ConnectionError (Connection refused)</c>): what an operator needs to tell a did:web host
    /// whose certificate is not trusted from one that is down. One line, bounded; never the response's own text.
    /// </summary>
    internal static string Describe(HttpRequestException ex)
    {
        Exception cause = ex;
        while (cause.InnerException is { } inner) cause = inner;
        if (ReferenceEquals(cause, ex)) return ex.HttpRequestError.ToString();
        var text = string.Join(' ', cause.Message.Split((char[])['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries)).Trim();
        if (text.Length > 200) text = text[..200] + "…";
        return $"{ex.HttpRequestError} ({text})";
    }

    private static async Task<byte[]?> ReadBoundedAsync(HttpContent content, int limit)
    {
        if (content.Headers.ContentLength > limit)
        {
            return null;
        }
        await using var stream = await content.ReadAsStreamAsync().ConfigureAwait(false);
        using var ms = new MemoryStream();
        var buffer = new byte[16 * 1024];
        int n;
        while ((n = await stream.ReadAsync(buffer).ConfigureAwait(false)) > 0)
        {
            if (ms.Length + n > limit)
            {
                return null;
            }
            ms.Write(buffer, 0, n);
        }
        return ms.ToArray();
    }

    /// <summary>LRU with per-entry expiry.</summary>
    private sealed class BoundedCache(int capacity)
    {
        private readonly Dictionary<string, LinkedListNode<(string Key, DidDocument Doc, DateTimeOffset Expires)>> _map = new(StringComparer.Ordinal);
        private readonly LinkedList<(string Key, DidDocument Doc, DateTimeOffset Expires)> _order = new();
        private readonly Lock _lock = new();

        public int Count
        {
            get
            {
                lock (_lock)
                {
                    return _map.Count;
                }
            }
        }

        public bool TryGet(string key, DateTimeOffset now, out DidDocument doc)
        {
            lock (_lock)
            {
                if (_map.TryGetValue(key, out var node) && node.Value.Expires > now)
                {
                    _order.Remove(node);
                    _order.AddFirst(node);
                    doc = node.Value.Doc;
                    return true;
                }
            }
            doc = null!;
            return false;
        }

        public void Set(string key, DidDocument doc, DateTimeOffset expires)
        {
            lock (_lock)
            {
                if (_map.Remove(key, out var existing))
                {
                    _order.Remove(existing);
                }
                _map[key] = _order.AddFirst((key, doc, expires));
                while (_map.Count > capacity)
                {
                    var last = _order.Last!;
                    _order.RemoveLast();
                    _map.Remove(last.Value.Key);
                }
            }
        }

        public void Remove(string key)
        {
            lock (_lock)
            {
                if (_map.Remove(key, out var node))
                {
                    _order.Remove(node);
                }
            }
        }
    }
}
