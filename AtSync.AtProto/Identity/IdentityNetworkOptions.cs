using System.Net;

namespace AtSync.AtProto.Identity;

/// <summary>
/// How identity lookups reach the network (did:web and PLC documents, handles' DNS TXT and
/// <c>/.well-known/atproto-did</c>): which hosts may be reached although they are not public, which DNS server is
/// asked, and the time each fetch may take. Production sets none of these but <see cref="AllowedHosts"/> when a
/// trusted peer (a private PLC mirror) lives on the private network.
/// </summary>
public sealed class IdentityNetworkOptions
{
    /// <summary>Host names (or IP literals) reached even when they resolve to loopback or private addresses (tests, development).</summary>
    public IReadOnlyCollection<string> AllowedHosts { get; init; } = [];

    /// <summary>The DNS server asked for TXT (<c>_atproto.</c>) and A/AAAA of identity hosts; null: the system's resolver.</summary>
    public IPEndPoint? NameServer { get; init; }

    /// <summary>Each HTTP fetch (connect, headers and body) and each DNS query is cut off after this.</summary>
    public TimeSpan FetchTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Connecting alone is cut off after this.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Development and tests only: handles' <c>/.well-known/atproto-did</c> is fetched over plain http on this port
    /// (and did:web documents over http) instead of https on 443. Null in production.
    /// </summary>
    public int? PlainHttpPort { get; init; }

    public bool IsAllowed(string host) =>
        AllowedHosts.Contains(host.Trim('[', ']').TrimEnd('.'), StringComparer.OrdinalIgnoreCase);
}
