namespace AtSync.AtProto.Identity;

public sealed class DidResolverOptions
{
    /// <summary>The PLC directory (<c>PLC_DIRECTORY_URL</c>).</summary>
    public Uri PlcDirectory { get; set; } = new("https://plc.directory");

    /// <summary>Most documents kept; the least recently used are dropped beyond this.</summary>
    public int CacheCapacity { get; set; } = 10_000;

    /// <summary>How long a resolved document is reused before it is fetched again.</summary>
    public TimeSpan CacheTtl { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Scheme for did:web documents: <c>https</c> per spec; <c>http</c> only for loopback tests and development.</summary>
    public string DidWebScheme { get; set; } = "https";
}
