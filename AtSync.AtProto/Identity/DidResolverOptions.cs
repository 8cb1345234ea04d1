namespace AtSync.AtProto.Identity;

public sealed class DidResolverOptions
{
    /// <summary>The PLC directory (<c>PLC_DIRECTORY_URL</c>).</summary>
    public Uri PlcDirectory { get; set; } = new("https://plc.directory");

    /// <summary>Most documents kept; the least recently used are dropped beyond this.</summary>
    public int CacheCapacity { get; set; } = 10_000;

    /// <summary>How long a resolved document is reused before it is fetched again.</summary>
    public TimeSpan CacheTtl { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// How long a definitive failure (not found, tombstoned, invalid or unsupported document) is answered from memory
    /// instead of fetched again; zero (the default) caches no failure. <see cref="IDidResolver.RefreshAsync"/> always fetches.
    /// </summary>
    public TimeSpan NegativeCacheTtl { get; set; } = TimeSpan.Zero;

    /// <summary>The same for an unavailable host or directory (timeouts, 5xx): short, so an outage is retried soon.</summary>
    public TimeSpan UnavailableCacheTtl { get; set; } = TimeSpan.Zero;

    /// <summary>Fetches in flight at once across all DIDs (one per DID: concurrent requests share it); the rest wait.</summary>
    public int MaxConcurrentFetches { get; set; } = 32;

    /// <summary>A 3xx answer is a <see cref="DidResolutionError.Refused"/> failure (not retried) rather than <see cref="DidResolutionError.Unavailable"/>.</summary>
    public bool RefuseRedirects { get; set; } = true;

    /// <summary>Scheme for did:web documents: <c>https</c> per spec; <c>http</c> only for loopback tests and development.</summary>
    public string DidWebScheme { get; set; } = "https";
}
