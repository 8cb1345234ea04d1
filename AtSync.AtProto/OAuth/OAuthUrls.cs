using System.Net;

namespace AtSync.AtProto.OAuth;

/// <summary>
/// Which URLs from the network this client follows. AT OAuth wants https everywhere; plain http is allowed only for a
/// loopback host and only when <paramref name="allowLoopbackHttp"/> is set (development and tests, as the AT OAuth
/// rules for localhost clients allow). Otherwise loopback, private and link-local literal addresses are refused.
/// </summary>
public sealed class OAuthUrls(bool allowLoopbackHttp)
{
    public bool AllowLoopbackHttp { get; } = allowLoopbackHttp;

    public bool IsAllowed(Uri? url)
    {
        if (url is null || !url.IsAbsoluteUri || !string.IsNullOrEmpty(url.UserInfo) || !string.IsNullOrEmpty(url.Fragment)) return false;
        var loopback = IsLoopback(url);
        if (url.Scheme == Uri.UriSchemeHttp) return AllowLoopbackHttp && loopback;
        if (url.Scheme != Uri.UriSchemeHttps) return false;
        if (loopback) return AllowLoopbackHttp;
        return !(IPAddress.TryParse(url.IdnHost.Trim('[', ']'), out var ip) && IsPrivate(ip));
    }

    public Uri Require(string? value, string what)
    {
        if (Uri.TryCreate(value, UriKind.Absolute, out var url) && IsAllowed(url)) return url;
        throw new OAuthException(OAuthException.ProtocolViolation, $"{what} is not an acceptable https URL");
    }

    public static bool IsLoopback(Uri url) =>
        url.IsLoopback || url.Host.Equals("localhost", StringComparison.OrdinalIgnoreCase);

    private static bool IsPrivate(IPAddress ip)
    {
        if (IPAddress.IsLoopback(ip) || ip.IsIPv6LinkLocal || ip.IsIPv6SiteLocal || ip.IsIPv6UniqueLocal) return true;
        if (ip.IsIPv4MappedToIPv6) ip = ip.MapToIPv4();
        var b = ip.GetAddressBytes();
        return b.Length == 4 && (b[0] is 10 or 0 || (b[0] == 172 && b[1] is >= 16 and < 32) || (b[0] == 192 && b[1] == 168)
            || (b[0] == 169 && b[1] == 254) || (b[0] == 100 && b[1] is >= 64 and < 128));
    }
}
