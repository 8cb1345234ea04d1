using System.Net;
using System.Net.Sockets;

namespace AtSync.AtProto.Identity;

/// <summary>
/// The HTTP handler for identity fetches (did:web, PLC, handle well-known, and the PDS and authorization-server
/// metadata an OAuth sign-in follows): never follows redirects, and connects only after resolving the host (through
/// <see cref="IdentityDns"/>) and checking every address it resolves to with <see cref="PublicAddresses.IsPublic"/>;
/// the socket connects only to those checked addresses, so a DID cannot point the service at loopback or the private
/// network (also not by DNS answers or by a redirect). Hosts in <see cref="IdentityNetworkOptions.AllowedHosts"/>
/// skip the check (for tests and development against loopback peers, or a private PLC mirror).
/// </summary>
public static class IdentityHttpHandler
{
    public static SocketsHttpHandler Create(IReadOnlyCollection<string>? allowedHosts = null, TimeSpan? connectTimeout = null) =>
        Create(new IdentityNetworkOptions { AllowedHosts = allowedHosts ?? [], ConnectTimeout = connectTimeout ?? TimeSpan.FromSeconds(2) });

    public static SocketsHttpHandler Create(IdentityNetworkOptions options, IdentityDns? dns = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        dns ??= new IdentityDns(options);
        return new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            UseProxy = false,
            ConnectTimeout = options.ConnectTimeout,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            MaxResponseHeadersLength = 16,
            ConnectCallback = (context, cancellationToken) => ConnectAsync(context.DnsEndPoint, options, dns, cancellationToken),
        };
    }

    /// <summary>An HttpClient over <see cref="Create(IdentityNetworkOptions, IdentityDns)"/> whose every request ends after <see cref="IdentityNetworkOptions.FetchTimeout"/>.</summary>
    public static HttpClient CreateClient(IdentityNetworkOptions options, IdentityDns? dns = null) =>
        new(Create(options, dns)) { Timeout = options.FetchTimeout };

    /// <summary>Whether <paramref name="exception"/> (or one it wraps) is the handler refusing a non-public address.</summary>
    public static bool IsRefusal(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is NonPublicAddressException) return true;
        }
        return false;
    }

    private static async ValueTask<Stream> ConnectAsync(DnsEndPoint endPoint, IdentityNetworkOptions options, IdentityDns dns, CancellationToken cancellationToken)
    {
        IPAddress[] addresses;
        try
        {
            addresses = await dns.AddressesAsync(endPoint.Host, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is DnsClient.DnsResponseException or SocketException)
        {
            throw new HttpRequestException(HttpRequestError.NameResolutionError, "the host could not be resolved", ex);
        }
        if (addresses.Length == 0) throw new HttpRequestException(HttpRequestError.NameResolutionError, "the host has no address");
        if (!options.IsAllowed(endPoint.Host) && !Array.TrueForAll(addresses, PublicAddresses.IsPublic))
        {
            throw new NonPublicAddressException();
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

/// <summary>An identity host resolves to a loopback, private or otherwise non-public address and is not allowed by name.</summary>
public sealed class NonPublicAddressException() : Exception("the host resolves to a non-public address");
