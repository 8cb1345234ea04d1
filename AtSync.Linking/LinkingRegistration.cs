using AtSync.AtProto.Identity;
using AtSync.AtProto.OAuth;
using AtSync.AtProto.Xrpc;
using AtSync.Core.Identity;
using AtSync.Core.Settings;
using AtSync.Core.Tokens;
using AtSync.Linking.Accounts;
using AtSync.Linking.Phpbb;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace AtSync.Linking;

public static class LinkingRegistration
{
    /// <summary>Settings, token cipher, the OAuth client and its resolution chain, phpBB sessions, the stores. Needs <c>AddAtSyncDatabase()</c>.</summary>
    public static TBuilder AddLinking<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.AddTokenEncryptionSettings();
        builder.Services.AddOptions<LinkingOptions>().Bind(builder.Configuration).ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<LinkingOptions>, LinkingOptionsValidator>());
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddSingleton(services => TokenCipher.FromOptions(services.GetRequiredService<IOptions<TokenEncryptionOptions>>().Value));
        builder.Services.AddAntiforgery(options =>
        {
            options.Cookie.Name = "atsync_link_csrf";
            options.Cookie.SameSite = SameSiteMode.Strict;
            options.FormFieldName = "csrf";
        });

        // Identity resolution (Core/Identity): DID documents over the guarded identity client (no redirects, no
        // private addresses but IDENTITY_ALLOWED_HOSTS, bounded in time and bytes), cached 5 minutes.
        builder.AddIdentityResolution(services => services.GetRequiredService<IOptions<LinkingOptions>>().Value.PlcDirectoryUrl, TimeSpan.FromMinutes(5));
        // Not an IHttpClientFactory client: the service defaults' resilience handler would transparently retry a
        // token request, and a retried request spends a single-use code or refresh token twice. Guarded the same way:
        // the PDS, its authorization server and their endpoints all come from documents anyone can write.
        builder.Services.TryAddSingleton(services => new OAuthHttp(new HttpClient(IdentityHttpHandler.Create(
            services.GetRequiredService<IdentityNetworkOptions>(), services.GetRequiredService<IdentityDns>()))
        { Timeout = TimeSpan.FromSeconds(15) }));
        builder.Services.TryAddSingleton(services => new OAuthUrls(services.GetRequiredService<IOptions<LinkingOptions>>().Value.AllowLoopbackHttp));
        builder.Services.TryAddSingleton<DpopNonceCache>();
        builder.Services.TryAddSingleton<LinkingClient>();
        builder.Services.TryAddSingleton(services =>
        {
            var http = services.GetRequiredService<OAuthHttp>().Client;
            var options = services.GetRequiredService<IOptions<LinkingOptions>>().Value;
            return new AccountResolver(http, services.GetRequiredService<IDidResolver>(),
                new XrpcClient(http, services.GetRequiredService<TimeProvider>()).WithService(new Uri(options.HandleResolverUrl)),
                services.GetRequiredService<OAuthUrls>());
        });
        builder.Services.TryAddSingleton(services => new OAuthClient(services.GetRequiredService<OAuthHttp>().Client,
            services.GetRequiredService<LinkingClient>().Identity, services.GetRequiredService<DpopNonceCache>(), services.GetRequiredService<TimeProvider>()));
        builder.Services.TryAddSingleton<PhpbbSessions>();
        builder.Services.TryAddSingleton<PendingSignIns>();
        builder.Services.TryAddSingleton<LinkedAccounts>();
        return builder;
    }

    public static WebApplication MapLinking(this WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            var headers = context.Response.Headers;
            headers.CacheControl = "no-store";
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers.ContentSecurityPolicy = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";
            headers["Referrer-Policy"] = "no-referrer";
            await next(context);
        });
        LinkEndpoints.Map(app, app.Services.GetRequiredService<LinkingClient>());
        return app;
    }
}

/// <summary>The one HttpClient for identity resolution and authorization servers (no redirects, no transparent retries).</summary>
public sealed record OAuthHttp(HttpClient Client) : IDisposable
{
    public void Dispose() => Client.Dispose();
}
