using AtSync.AtProto.Identity;
using AtSync.Core.Settings;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace AtSync.Core.Identity;

/// <summary>
/// The one HttpClient for identity fetches: over <see cref="IdentityHttpHandler"/> (no redirects, no loopback or
/// private addresses unless <c>IDENTITY_ALLOWED_HOSTS</c> names the host), each request cut off after
/// <see cref="IdentityNetworkOptions.FetchTimeout"/>. Not an IHttpClientFactory client: the service defaults'
/// resilience handler would retry a slow or hostile host in the background.
/// </summary>
public sealed record IdentityHttp(HttpClient Client) : IDisposable
{
    public void Dispose() => Client.Dispose();
}

/// <summary>
/// Registers identity resolution for a service: <see cref="IdentityOptions"/> (validated at start), the guarded
/// <see cref="IdentityHttp"/> client, <see cref="IdentityDns"/>, the cached <see cref="IDidResolver"/> and the
/// two-way <see cref="HandleResolver"/>. One home, so every service resolves identities the same guarded way.
/// </summary>
public static class IdentityResolution
{
    /// <summary>Definitive failures (not found, tombstoned, invalid) are answered from memory this long.</summary>
    public static readonly TimeSpan NegativeCacheTtl = TimeSpan.FromSeconds(30);

    /// <summary>Outages are answered from memory this long: a host that never answers is asked at most this often.</summary>
    public static readonly TimeSpan UnavailableCacheTtl = TimeSpan.FromSeconds(1);

    public static IHostApplicationBuilder AddIdentityResolution(
        this IHostApplicationBuilder builder, Func<IServiceProvider, string> plcDirectoryUrl, TimeSpan documentTtl)
    {
        builder.AddIdentitySettings();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddSingleton(services => services.GetRequiredService<IOptions<IdentityOptions>>().Value.ToNetworkOptions());
        builder.Services.TryAddSingleton(services => new IdentityDns(services.GetRequiredService<IdentityNetworkOptions>()));
        builder.Services.TryAddSingleton(services => new IdentityHttp(IdentityHttpHandler.CreateClient(
            services.GetRequiredService<IdentityNetworkOptions>(), services.GetRequiredService<IdentityDns>())));
        builder.Services.TryAddSingleton<IDidResolver>(services =>
        {
            var network = services.GetRequiredService<IdentityNetworkOptions>();
            return new DidResolver(services.GetRequiredService<IdentityHttp>().Client, new DidResolverOptions
            {
                PlcDirectory = new Uri(plcDirectoryUrl(services)),
                CacheTtl = documentTtl,
                NegativeCacheTtl = NegativeCacheTtl,
                UnavailableCacheTtl = UnavailableCacheTtl,
                DidWebScheme = network.PlainHttpPort is null ? "https" : "http",
            }, services.GetRequiredService<TimeProvider>());
        });
        builder.Services.TryAddSingleton(services => new HandleResolver(
            services.GetRequiredService<IdentityHttp>().Client, services.GetRequiredService<IdentityDns>(), services.GetRequiredService<IdentityNetworkOptions>()));
        return builder;
    }
}
