using System.Net;
using AtSync.AtProto.Identity;
using AtSync.AtProto.OAuth;
using AtSync.AtProto.Xrpc;
using AtSync.Testing;
using AtSync.Tests.AtProto;

namespace AtSync.Tests.OAuth;

/// <summary>
/// OAuth resolution over the guarded identity client (as AtSync.Linking wires it): a PDS or authorization server whose
/// name resolves to loopback is never connected to, and a redirect from an allowed host is not followed.
/// </summary>
public sealed class OAuthAddressGuardTests
{
    [Fact]
    public async Task A_pds_or_authorization_server_named_by_a_dns_answer_pointing_at_loopback_is_never_asked()
    {
        await using var trap = await LoopbackHttpServer.StartAsync();
        await using var dns = await LoopbackDns.StartAsync();
        dns.Addresses["pds.test"] = [IPAddress.Loopback];
        dns.Addresses["auth.test"] = [IPAddress.Parse("::ffff:127.0.0.1")];
        dns.Addresses["metadata.test"] = [IPAddress.Parse("169.254.169.254")];
        var options = new IdentityNetworkOptions { NameServer = dns.EndPoint, FetchTimeout = TimeSpan.FromSeconds(5) };
        using var http = IdentityHttpHandler.CreateClient(options, new IdentityDns(options));
        var resolver = new AccountResolver(http, new DidResolver(http), new XrpcClient(http).WithService(trap.BaseUri), new OAuthUrls(allowLoopbackHttp: false));

        var pds = await Assert.ThrowsAsync<OAuthException>(() => resolver.AuthorizationServerOfAsync(new Uri($"https://pds.test:{trap.BaseUri.Port}")));
        Assert.Equal(OAuthException.Unavailable, pds.Error);
        var server = await Assert.ThrowsAsync<OAuthException>(() => resolver.AuthorizationServerAsync($"https://auth.test:{trap.BaseUri.Port}"));
        Assert.Equal(OAuthException.Unavailable, server.Error);
        await Assert.ThrowsAsync<OAuthException>(() => resolver.AuthorizationServerAsync("https://metadata.test"));

        Assert.Contains("pds.test A", dns.Questions);
        Assert.Contains("auth.test AAAA", dns.Questions);
        Assert.Empty(trap.Requests);
    }

    [Fact]
    public async Task A_redirect_from_an_allowed_pds_is_not_followed()
    {
        await using var trap = await LoopbackHttpServer.StartAsync();
        await using var pds = await LoopbackHttpServer.StartAsync();
        pds.Handler = (context, _) =>
        {
            context.Response.StatusCode = 307;
            context.Response.Headers.Location = new Uri(trap.BaseUri, "/.well-known/oauth-protected-resource").ToString();
            return Task.CompletedTask;
        };
        var options = new IdentityNetworkOptions { AllowedHosts = ["127.0.0.1"] };
        using var http = IdentityHttpHandler.CreateClient(options);
        var resolver = new AccountResolver(http, new DidResolver(http), new XrpcClient(http).WithService(trap.BaseUri), new OAuthUrls(allowLoopbackHttp: true));

        var error = await Assert.ThrowsAsync<OAuthException>(() => resolver.AuthorizationServerOfAsync(pds.BaseUri));
        Assert.Equal(OAuthException.ProtocolViolation, error.Error);
        Assert.Single(pds.Requests);
        Assert.Empty(trap.Requests);
    }
}
