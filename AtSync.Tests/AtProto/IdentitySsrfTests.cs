using System.Net;
using System.Net.Sockets;
using AtSync.AtProto.Identity;
using AtSync.AtProto.Syntax;

namespace AtSync.Tests.AtProto;

/// <summary>did:web documents on loopback: refused before any connection unless the host is allowed by name; redirects never followed.</summary>
public sealed class IdentitySsrfTests
{
    [Fact]
    public async Task A_did_web_on_loopback_is_refused_and_the_server_sees_no_connection()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var http = new HttpClient(IdentityHttpHandler.Create()) { Timeout = TimeSpan.FromSeconds(5) };
        var resolver = new DidResolver(http, new DidResolverOptions { DidWebScheme = "http" });

        var error = await Assert.ThrowsAsync<DidResolutionException>(() => resolver.ResolveAsync(Did.Parse($"did:web:127.0.0.1%3A{port}")));
        Assert.Equal(DidResolutionError.Refused, error.Error);
        Assert.False(error.IsTransient);
        Assert.False(listener.Pending(), "the loopback server was connected to");
    }

    [Theory]
    [InlineData("127.0.0.1", false)]
    [InlineData("10.1.2.3", false)]
    [InlineData("172.16.0.1", false)]
    [InlineData("192.168.1.1", false)]
    [InlineData("169.254.169.254", false)]
    [InlineData("100.64.0.1", false)]
    [InlineData("224.0.0.1", false)]
    [InlineData("0.0.0.0", false)]
    [InlineData("::1", false)]
    [InlineData("fe80::1", false)]
    [InlineData("fd00::1", false)]
    [InlineData("ff02::1", false)]
    [InlineData("::ffff:127.0.0.1", false)]
    [InlineData("64:ff9b::a9fe:a9fe", false)]
    [InlineData("64:ff9b::7f00:1", false)]
    [InlineData("2002:c0a8:0101::1", false)]
    [InlineData("2001:db8::1", false)]
    [InlineData("192.0.2.10", false)]
    [InlineData("198.51.100.7", false)]
    [InlineData("203.0.113.9", false)]
    [InlineData("240.0.0.1", false)]
    [InlineData("64:ff9b::5db8:d822", true)]
    [InlineData("2002:5db8:d822::1", true)]
    [InlineData("93.184.216.34", true)]
    [InlineData("2606:4700::1111", true)]
    public void Only_public_unicast_addresses_are_reachable(string address, bool reachable) =>
        Assert.Equal(reachable, PublicAddresses.IsPublic(IPAddress.Parse(address)));

    [Fact]
    public async Task An_allowed_host_is_reached_but_a_redirect_is_not_followed()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var served = Task.Run(async () =>
        {
            using var client = await listener.AcceptTcpClientAsync();
            var stream = client.GetStream();
            var buffer = new byte[4096];
            _ = await stream.ReadAsync(buffer);
            var reply = "HTTP/1.1 302 Found\r\nLocation: http://169.254.169.254/latest\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"u8.ToArray();
            await stream.WriteAsync(reply);
        });
        using var http = new HttpClient(IdentityHttpHandler.Create(["127.0.0.1"])) { Timeout = TimeSpan.FromSeconds(5) };
        var resolver = new DidResolver(http, new DidResolverOptions { DidWebScheme = "http" });

        var error = await Assert.ThrowsAsync<DidResolutionException>(() => resolver.ResolveAsync(Did.Parse($"did:web:127.0.0.1%3A{port}")));
        await served;
        Assert.Equal(HttpStatusCode.Found, error.StatusCode);
        Assert.Equal(DidResolutionError.Refused, error.Error);
    }
}
