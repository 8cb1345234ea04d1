using System.Net;
using AtSync.AtProto.Identity;
using Microsoft.Extensions.Configuration;

namespace AtSync.Core.Settings;

/// <summary>
/// How identity lookups may reach the network (<see cref="IdentityNetworkOptions"/>): every did:web, PLC, handle and
/// OAuth metadata fetch refuses loopback, private, link-local, multicast, CGNAT and reserved addresses and never
/// follows a redirect, except for the hosts named in <c>IDENTITY_ALLOWED_HOSTS</c>.
/// </summary>
public sealed class IdentityOptions
{
    /// <summary>Comma- or space-separated host names or IP literals reached although not public (a private PLC mirror; tests' loopback peers).</summary>
    [ConfigurationKeyName(SettingNames.IdentityAllowedHosts)]
    public string AllowedHosts { get; set; } = "";

    /// <summary><c>address</c> or <c>address:port</c> of the DNS server for handles' TXT records and identity hosts' addresses; empty: the system's.</summary>
    [ConfigurationKeyName(SettingNames.IdentityDnsServer)]
    public string DnsServer { get; set; } = "";

    /// <summary>Development and tests only: handles' well-known and did:web documents over plain http (handles on this port).</summary>
    [ConfigurationKeyName(SettingNames.IdentityPlainHttpPort)]
    public string PlainHttpPort { get; set; } = "";

    public IReadOnlyList<string> AllowedHostList =>
        [.. AllowedHosts.Split([',', ' ', ';', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];

    /// <summary>The library's options; call after validation.</summary>
    public IdentityNetworkOptions ToNetworkOptions() => new()
    {
        AllowedHosts = AllowedHostList,
        NameServer = string.IsNullOrWhiteSpace(DnsServer) ? null : ParseEndPoint(DnsServer),
        PlainHttpPort = string.IsNullOrWhiteSpace(PlainHttpPort) ? null : int.Parse(PlainHttpPort, System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary><c>1.2.3.4</c>, <c>1.2.3.4:53</c>, <c>::1</c> or <c>[::1]:53</c>; null when malformed.</summary>
    public static IPEndPoint? ParseEndPoint(string value)
    {
        value = value.Trim();
        if (IPAddress.TryParse(value, out var bare)) return new IPEndPoint(bare, 53);
        return IPEndPoint.TryParse(value, out var endPoint) && endPoint.Port > 0 ? endPoint : null;
    }

    internal IEnumerable<string> Problems()
    {
        foreach (var host in AllowedHostList)
        {
            if (Uri.CheckHostName(host.Trim('[', ']')) == UriHostNameType.Unknown)
            {
                yield return $"{SettingNames.IdentityAllowedHosts} must list host names or IP addresses (no scheme, port or path)";
                break;
            }
        }
        if (!string.IsNullOrWhiteSpace(DnsServer) && ParseEndPoint(DnsServer) is null)
        {
            yield return $"{SettingNames.IdentityDnsServer} is not an IP address or address:port";
        }
        if (!string.IsNullOrWhiteSpace(PlainHttpPort)
            && !(int.TryParse(PlainHttpPort, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port) && port is > 0 and < 65536))
        {
            yield return $"{SettingNames.IdentityPlainHttpPort} is not a port number";
        }
    }
}
