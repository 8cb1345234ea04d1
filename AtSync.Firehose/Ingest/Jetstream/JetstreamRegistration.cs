using AtSync.AtProto.Identity;
using AtSync.Firehose.Verify.Jetstream;
using Microsoft.Extensions.Options;

namespace AtSync.Firehose.Ingest.Jetstream;

public static class JetstreamRegistration
{
    /// <summary>
    /// The Jetstream source's settings (<c>JETSTREAM_URL</c>, section <c>Jetstream</c>) and its verify stage: the record
    /// prover with its own guarded PDS client (no default retry pipeline: a slow PDS makes its author wait, not the stream).
    /// </summary>
    public static TBuilder AddJetstream<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddOptions<JetstreamOptions>()
            .Bind(builder.Configuration.GetSection(JetstreamOptions.Section))
            .Configure(options =>
            {
                var url = builder.Configuration[JetstreamOptions.UrlSetting];
                if (!string.IsNullOrWhiteSpace(url)) options.Url = url.Trim();
            })
            .Validate(options => Uri.TryCreate(options.Url, UriKind.Absolute, out var uri) && uri.Scheme is "ws" or "wss" or "http" or "https",
                $"{JetstreamOptions.UrlSetting} must be an absolute ws://, wss://, http:// or https:// URL")
            .Validate(options => options.RecordFetchTimeout > TimeSpan.Zero && options.CursorRewind >= TimeSpan.Zero,
                "Jetstream timings must be positive (Jetstream__RecordFetchTimeout, Jetstream__CursorRewind)")
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton(services =>
        {
            var options = services.GetRequiredService<IOptions<JetstreamOptions>>();
            var handler = IdentityHttpHandler.Create(options.Value.AllowedPdsHosts, connectTimeout: TimeSpan.FromSeconds(2));
            return new PdsRecordClient(new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan }, options);
        });
        builder.Services.AddSingleton<RecordProver>();
        builder.Services.AddSingleton<JetstreamBatchVerifier>();
        return builder;
    }
}
