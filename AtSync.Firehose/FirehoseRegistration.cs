using AtSync.AtProto.Identity;
using AtSync.Core.Identity;
using AtSync.Core.Settings;
using AtSync.Firehose.Events;
using AtSync.Firehose.Health;
using AtSync.Firehose.Import;
using AtSync.Firehose.Apply;
using AtSync.Firehose.Repos;
using AtSync.Firehose.Verify;
using AtSync.Firehose.Ingest.Jetstream;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace AtSync.Firehose;

public static class FirehoseRegistration
{
    public const string RelayHealthCheckName = "relay";
    public const string JetstreamHealthCheckName = "jetstream";
    public const string FileHealthCheckName = "file";
    public const string LabelsHealthCheckName = "labeler";

    /// <summary>The repository stream's health check is named after its source (<c>FIREHOSE_SOURCE</c>): relay, jetstream or file.</summary>
    public static string RepoHealthCheckName(FirehoseSource source) => source switch
    {
        FirehoseSource.Jetstream => JetstreamHealthCheckName,
        FirehoseSource.File => FileHealthCheckName,
        _ => RelayHealthCheckName,
    };

    /// <summary>
    /// The source <paramref name="configuration"/> chooses: <c>FIREHOSE_SOURCE</c> (or <c>Firehose:Source</c>), else
    /// <c>file</c> when <c>FIREHOSE_REPLAY_FILE</c> is set, else the relay; null when the value names no source.
    /// </summary>
    public static FirehoseSource? ConfiguredSource(IConfiguration configuration)
    {
        var source = configuration[FirehoseOptions.SourceSetting] ?? configuration[$"{FirehoseOptions.Section}:Source"];
        if (string.IsNullOrWhiteSpace(source))
        {
            var replay = configuration[FirehoseOptions.ReplayFileSetting] ?? configuration[$"{FirehoseOptions.Section}:ReplayFile"];
            return string.IsNullOrWhiteSpace(replay) ? FirehoseSource.Relay : FirehoseSource.File;
        }
        return Enum.TryParse<FirehoseSource>(source.Trim(), ignoreCase: true, out var parsed) && Enum.IsDefined(parsed) ? parsed : null;
    }

    /// <summary>
    /// The Firehose on a host that already has <c>AddAtSyncDatabase()</c>: settings (forum, network, <c>Firehose</c>
    /// tuning), the stream processors as a hosted service, metrics and the stream health checks.
    /// </summary>
    public static TBuilder AddFirehose<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.AddForumSettings();
        builder.AddNetworkSettings();
        builder.Services.AddOptions<FirehoseOptions>()
            .Bind(builder.Configuration.GetSection(FirehoseOptions.Section))
            .Configure(options =>
            {
                var replay = builder.Configuration[FirehoseOptions.ReplayFileSetting];
                if (!string.IsNullOrWhiteSpace(replay)) options.ReplayFile = replay;
                // Refused by the validation below, naming the setting, when it names no source.
                options.Source = ConfiguredSource(builder.Configuration) ?? (FirehoseSource)(-1);
            })
            .Validate(options => Enum.IsDefined(options.Source), $"{FirehoseOptions.SourceSetting} must be relay, jetstream or file")
            .Validate(options => options.Source != FirehoseSource.File || !string.IsNullOrWhiteSpace(options.ReplayFile),
                $"{FirehoseOptions.SourceSetting}=file needs {FirehoseOptions.ReplayFileSetting}")
            .Validate(options => options.BatchMaxDelay > TimeSpan.Zero && options.IdleTimeout > TimeSpan.Zero
                && options.ReconnectInitialDelay > TimeSpan.Zero && options.ReconnectMaxDelay >= options.ReconnectInitialDelay,
                "Firehose timings must be positive (Firehose__BatchMaxDelay, Firehose__IdleTimeout, Firehose__Reconnect*)")
            .Validate(options => options.KeyDeadline > TimeSpan.Zero && options.ReleaseKeyDeadline > TimeSpan.Zero
                && options.ParkedRetryFirst > TimeSpan.Zero && options.ParkedRetryMax >= options.ParkedRetryFirst
                && options.ParkedMaxAge > TimeSpan.Zero && options.ReleasePollInterval > TimeSpan.Zero && options.CursorStuckAfter > TimeSpan.Zero,
                "Firehose repository timings must be positive, ParkedRetryMax at least ParkedRetryFirst (Firehose__KeyDeadline, Firehose__Parked*, Firehose__ReleasePollInterval, Firehose__CursorStuckAfter)")
            .Validate(options => string.IsNullOrWhiteSpace(options.ReplayFile) || File.Exists(options.ReplayFile),
                $"{FirehoseOptions.ReplayFileSetting} names a file that does not exist")
            .ValidateDataAnnotations()
            .ValidateOnStart();

        builder.Services.AddOptions<PostingOptions>().Bind(builder.Configuration).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<PostingOptions>, PostingOptionsValidator>();

        builder.Services.AddMetrics();
        builder.Services.AddSingleton<FirehoseMetrics>();
        builder.Services.AddSingleton<IStreamDecoder, AtProtoStreamDecoder>();
        // DID documents and handles are fetched within a short budget before a batch (Verify/: CommitSignatures,
        // AuthorHandles, LabelSignatures) over the guarded identity client (Core/Identity: no redirects, no private
        // addresses but IDENTITY_ALLOWED_HOSTS, 5 s per fetch), not through the default retry pipeline.
        builder.AddIdentityResolution(services => services.GetRequiredService<IOptions<NetworkOptions>>().Value.PlcDirectoryUrl, TimeSpan.FromHours(1));
        builder.Services.AddSingleton(services => new RepoSignatureChecker(
            services.GetRequiredService<IDidResolver>(), timeProvider: services.GetRequiredService<TimeProvider>()));
        builder.Services.AddSingleton<CommitSignatures>();
        builder.Services.AddSingleton<IHandleResolver, DidDocumentHandleResolver>();
        builder.Services.AddSingleton<AuthorHandles>();
        builder.Services.AddSingleton<LabelSignatures>();
        builder.Services.AddSingleton<LinkedDids>();
        builder.Services.AddSingleton<RepoStateStore>();
        builder.Services.AddSingleton<BatchVerifier>();
        builder.AddJetstream();
        builder.Services.AddSingleton(services =>
        {
            var forum = services.GetRequiredService<IOptions<ForumOptions>>().Value;
            var network = services.GetRequiredService<IOptions<NetworkOptions>>().Value;
            return new FirehoseIdentity(forum.Did, network.LabelerDid);
        });
        builder.Services.AddSingleton<BatchWriter>();
        builder.Services.AddSingleton<HideLabelExpiry>();
        builder.Services.AddSingleton<FirehoseStreams>();
        builder.Services.AddHostedService<FirehoseWorker>();
        builder.AddRepositoryImport();
        builder.Services.AddImportWorker();
        builder.Services.AddSingleton<HeldCommitReleaser>();
        builder.Services.AddHostedService(services => services.GetRequiredService<HeldCommitReleaser>());

        var startedAt = DateTimeOffset.UtcNow;
        builder.Services.AddHealthChecks()
            .Add(new HealthCheckRegistration(RepoHealthCheckName(ConfiguredSource(builder.Configuration) ?? FirehoseSource.Relay), services =>
            {
                var streams = services.GetRequiredService<FirehoseStreams>();
                return new StreamHealthCheck(streams.Repo, streams.Options, services.GetRequiredService<TimeProvider>(), startedAt, requireActivity: true);
            }, HealthStatus.Unhealthy, ["ready"]))
            .Add(new HealthCheckRegistration(LabelsHealthCheckName, services =>
            {
                var streams = services.GetRequiredService<FirehoseStreams>();
                // The labeler is quiet for long stretches: only its connection is checked, and losing it degrades.
                return new StreamHealthCheck(streams.Labels, streams.Options, services.GetRequiredService<TimeProvider>(), startedAt, requireActivity: false);
            }, HealthStatus.Degraded, ["ready"]));
        return builder;
    }
}
