using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;

namespace AtSync.Core.Settings;

/// <summary>
/// The service's own listening addresses (<c>urls</c>: <c>ASPNETCORE_URLS</c> or <c>--urls</c>), checked before the
/// host starts: a port another process holds is reported in one line. Kestrel would fail the same way, but only after
/// the host had logged the failure, and every background service's cancellation, with stack traces.
/// </summary>
public static class ListenAddresses
{
    /// <summary>The first configured address whose port is taken, or null.</summary>
    public static string? FirstInUse(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var urls = configuration["urls"];
        if (string.IsNullOrWhiteSpace(urls)) return null;
        foreach (var url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (Endpoint(url) is { } endpoint && InUse(endpoint)) return url;
        }
        return null;
    }

    private static IPEndPoint? Endpoint(string url)
    {
        // Kestrel's wildcards (*, +) are not valid URI hosts: read host and port by hand.
        var rest = url[(url.IndexOf("://", StringComparison.Ordinal) is var i and >= 0 ? i + 3 : 0)..];
        var slash = rest.IndexOf('/');
        if (slash >= 0) rest = rest[..slash];
        var colon = rest.LastIndexOf(':');
        if (colon < 0 || !int.TryParse(rest[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is <= 0 or > 65535)
        {
            return null;
        }
        var host = rest[..colon].Trim('[', ']');
        IPAddress? address = host switch
        {
            "*" or "+" or "0.0.0.0" => IPAddress.Any,
            "::" => IPAddress.IPv6Any,
            "localhost" => IPAddress.Loopback,
            _ => IPAddress.TryParse(host, out var parsed) ? parsed : null,
        };
        return address is null ? null : new IPEndPoint(address, port);
    }

    private static bool InUse(IPEndPoint endpoint)
    {
        try
        {
            using var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            // As Kestrel binds on Linux: a port in TIME_WAIT is free, one with a listener is not.
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            socket.Bind(endpoint);
            return false;
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            return true;
        }
        catch (SocketException)
        {
            // Anything else (no such address here, no permission) is Kestrel's to report.
            return false;
        }
    }
}
