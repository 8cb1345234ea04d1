using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace AtSync.Core.Forum.Text;

/// <summary>
/// s9e TextFormatter's <c>#url</c> filter (src/Parser/AttributeFilters/UrlFilter.php) with phpBB 3.3's default
/// <c>allowed_schemes_links</c> (<c>http,https,ftp</c>): a URL is accepted or refused, and an accepted one is rebuilt
/// with everything outside <c>[!#-&amp;*-;=?-Z_a-z~]</c> percent-encoded, so quotes, brackets and spaces never reach
/// an attribute raw.
/// </summary>
internal static partial class PhpbbUrlFilter
{
    private static readonly HashSet<string> AllowedSchemes = new(StringComparer.Ordinal) { "http", "https", "ftp" };

    /// <summary>The sanitized URL, or null when phpBB would refuse it.</summary>
    public static string? Filter(string value)
    {
        var match = UrlParts().Match(PhpTrim(value));
        string Part(int i) => match.Success ? match.Groups[i].Value : "";
        var scheme = Part(1).ToLowerInvariant();
        var user = Part(2);
        var pass = Part(3);
        var host = Part(4).Replace("\u3002", ".", StringComparison.Ordinal).Replace("\uFF0E", ".", StringComparison.Ordinal)
            .Replace("\uFF61", ".", StringComparison.Ordinal).TrimEnd('.');
        var port = Part(5);
        var path = Part(6) + Part(7) + Part(8);

        if (host.Any(c => c > 0x7F))
        {
            try
            {
                host = new IdnMapping().GetAscii(host);
            }
            catch (ArgumentException)
            {
                return null;
            }
        }

        if (scheme.Length > 0 && !AllowedSchemes.Contains(scheme)) return null;
        if (host.Length > 0)
        {
            if (!HostName().IsMatch(host) && !IsIpAddress(host)) return null;
        }
        else if (scheme is "http" or "https" or "ftp" or "ftps")
        {
            return null;
        }

        var url = new StringBuilder();
        if (scheme.Length > 0) url.Append(scheme).Append(':');
        if (host.Length > 0)
        {
            url.Append("//");
            if (user.Length > 0)
            {
                url.Append(RawUrlEncode(WebUtility.UrlDecode(user)));
                if (pass.Length > 0) url.Append(':').Append(RawUrlEncode(WebUtility.UrlDecode(pass)));
                url.Append('@');
            }
            url.Append(host);
            if (port.Length > 0) url.Append(':').Append(port);
        }
        url.Append(SanitizeUrl(LowerHexEscape().Replace(path, m => m.Value.ToUpperInvariant())));
        var result = url.ToString();
        if (scheme.Length == 0) result = SchemeLikeColon().Replace(result, "$1%3A", 1);
        return result;
    }

    /// <summary>s9e's <c>UrlFilter::sanitizeUrl</c>: percent-encodes (UTF-8) every character outside its safe set and a stray <c>%</c>.</summary>
    public static string SanitizeUrl(string url) => UnsafeUrlChar().Replace(url, m => RawUrlEncode(m.Value));

    /// <summary>PHP's <c>rawurlencode</c>: everything but <c>A-Za-z0-9-_.~</c> as <c>%XX</c> of its UTF-8 bytes.</summary>
    public static string RawUrlEncode(string value)
    {
        var builder = new StringBuilder(value.Length);
        foreach (var b in Encoding.UTF8.GetBytes(value))
        {
            if (b is (>= (byte)'A' and <= (byte)'Z') or (>= (byte)'a' and <= (byte)'z') or (>= (byte)'0' and <= (byte)'9')
                or (byte)'-' or (byte)'_' or (byte)'.' or (byte)'~')
            {
                builder.Append((char)b);
            }
            else
            {
                builder.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }
        return builder.ToString();
    }

    /// <summary>PHP's <c>trim()</c> default set: space, tab, LF, CR, NUL, vertical tab.</summary>
    public static string PhpTrim(string value) => value.Trim(' ', '\t', '\n', '\r', '\0', '\x0B');

    private static bool IsIpAddress(string host)
    {
        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            return IPAddress.TryParse(host[1..^1], out var v6) && v6.AddressFamily == AddressFamily.InterNetworkV6;
        }
        // FILTER_VALIDATE_IP (IPv4): four decimal parts, no leading zeros.
        return Ipv4().IsMatch(host);
    }

    [GeneratedRegex(@"^(?:([a-zA-Z][-+.A-Za-z0-9_]*):)?(?://(?:([^:/?#]*)(?::([^/?#]*)?)?@)?(?:(\[[a-fA-F\d:]+\]|[^:/?#]+)(?::(\d*))?)?(?![^/?#]))?([^?#]*)(\?[^#]*)?(#.*)?\z")]
    private static partial Regex UrlParts();

    [GeneratedRegex(@"^(?!-)[-a-zA-Z0-9]{0,62}[a-zA-Z0-9](?:\.(?!-)[-a-zA-Z0-9]{0,62}[a-zA-Z0-9])*\z")]
    private static partial Regex HostName();

    [GeneratedRegex(@"^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\z")]
    private static partial Regex Ipv4();

    [GeneratedRegex("%.?[a-f]")]
    private static partial Regex LowerHexEscape();

    [GeneratedRegex("%(?![0-9A-Fa-f]{2})|[^!#-&*-;=?-Z_a-z~]+")]
    private static partial Regex UnsafeUrlChar();

    [GeneratedRegex("^([^/]*):")]
    private static partial Regex SchemeLikeColon();
}
