using AtSync.AtProto.OAuth;
using AtSync.Core.Settings;
using AtSync.Core.Tokens;
using AtSync.QueueWorker.Boards;
using AtSync.QueueWorker.Delivery;
using AtSync.QueueWorker.Queue;
using AtSync.QueueWorker.Records;
using AtSync.QueueWorker.Sessions;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace AtSync.QueueWorker;

public static class QueueWorkerRegistration
{
    public const string LoopHealthCheckName = "worker-loop";

    /// <summary>The queue worker: settings, token cipher, PDS clients, the forum account and its boards, the processor and its loop, health and metrics.
    /// Needs <c>AddAtSyncDatabase()</c>.</summary>
    public static TBuilder AddQueueWorker<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.AddTokenEncryptionSettings();
        builder.AddForumAccountSettings();
        builder.AddOAuthClientSettings();
        builder.Services.AddOptions<QueueWorkerOptions>().Bind(builder.Configuration.GetSection(QueueWorkerOptions.Section))
            .ValidateDataAnnotations().ValidateOnStart();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddMetrics();
        builder.Services.TryAddSingleton(services => TokenCipher.FromOptions(services.GetRequiredService<IOptions<TokenEncryptionOptions>>().Value));
        builder.Services.TryAddSingleton<QueueMetrics>();
        builder.Services.TryAddSingleton<DpopNonceCache>();
        builder.Services.TryAddSingleton<PdsClients>();
        builder.Services.TryAddSingleton<OAuthRefresher>();
        builder.Services.TryAddSingleton(new RetrySchedule());
        builder.Services.TryAddSingleton<RateBudget>();
        builder.Services.TryAddSingleton<QueueStore>();
        builder.Services.TryAddSingleton<PostSource>();
        builder.Services.TryAddSingleton<ForumAccountLogin>();
        builder.Services.TryAddSingleton<ForumAccountStore>();
        builder.Services.TryAddSingleton<ForumAccountStartupCheck>();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IStartupCheck, ForumAccountStartupCheck>(services => services.GetRequiredService<ForumAccountStartupCheck>()));
        builder.Services.TryAddSingleton<BoardSource>();
        builder.Services.TryAddSingleton<BoardReconciler>();
        builder.Services.TryAddSingleton<UserSessions>();
        builder.Services.TryAddSingleton<WritePlanner>();
        builder.Services.TryAddSingleton<PdsWriter>();
        builder.Services.TryAddSingleton<QueueProcessor>();
        builder.Services.TryAddSingleton<WorkerHeartbeat>();
        builder.Services.AddHostedService<QueueWorkerService>();
        builder.Services.AddHostedService<ForumAccountService>();
        builder.Services.AddHealthChecks().AddCheck<WorkerLoopHealthCheck>(LoopHealthCheckName, tags: ["live"]);
        builder.Services.AddHealthChecks().AddCheck<QueueBacklogHealthCheck>(QueueBacklogHealthCheck.Name, Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Degraded, ["ready"]);
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(25));
        return builder;
    }
}
