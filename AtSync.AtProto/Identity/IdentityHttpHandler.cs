using System.Net;
using System.Net.Sockets;

namespace AtSync.AtProto.Identity;

/// <summary>
/// The HTTP handler for identity fetches (did:web, PLC, handle well-known): never follows redirects, and connects only
/// after resolving the host and checking every address it resolves to with <see cref="PublicAddresses.IsPublic"/>,
/// so a DID cannot point the service at loopback or the private network (also not by DNS answers). Hosts named in
/// <paramref name="allowedHosts"/> skip the check (for tests and development against loopback peers).
/// </summary>
public static class IdentityHttpHandler
{
    public static SocketsHttpHandler Create(IReadOnlyCollection<string>? allowedHosts = null, TimeSpan? connectTimeout = null)
    {
        var allowed = new HashSet<string>(allowedHosts ?? [], StringComparer.OrdinalIgnoreCase);
        return new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            ConnectTimeout = connectTimeout ?? TimeSpan.FromSeconds(2),
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            MaxResponseHeadersLength = 16,
            ConnectCallback = (context, cancellationToken) => ConnectAsync(context.DnsEndPoint, allowed, cancellationToken),
        };
    }

    private static async ValueTask<Stream> ConnectAsync(DnsEndPoint endPoint, HashSet<string> allowed, CancellationToken cancellationToken)
    {
        var addresses = IPAddress.TryParse(endPoint.Host.Trim('[', ']'), out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(endPoint.Host, cancellationToken).ConfigureAwait(false);
        if (addresses.Length == 0) throw new HttpRequestException(HttpRequestError.NameResolutionError, "the host has no address");
        if (!allowed.Contains(endPoint.Host) && !Array.TrueForAll(addresses, PublicAddresses.IsPublic))
        {
            throw new HttpRequestException(HttpRequestError.ConnectionError, "the host resolves to a non-public address");
        }
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(addresses, endPoint.Port, cancellationToken).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
