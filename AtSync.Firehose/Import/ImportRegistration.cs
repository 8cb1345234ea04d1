using Microsoft.Extensions.Options;

namespace AtSync.Firehose.Import;

public static class ImportRegistration
{
    /// <summary>
    /// Repository imports (settings section <c>Import</c>, the download client, <see cref="RepoImporter"/>); used by
    /// <c>AddFirehose</c>, which also runs the <see cref="ImportWorker"/>, and by <c>atsync backfill</c>.
    /// </summary>
    public static TBuilder AddRepositoryImport<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddOptions<ImportOptions>()
            .Bind(builder.Configuration.GetSection(ImportOptions.Section))
            .Validate(o => o.IsValid, "Import timings must be positive, Import__Lease longer than Import__FetchTimeout and Import__RetryMaxDelay at least Import__RetryInitialDelay")
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton(services => RepoHttpClient.Create(services.GetRequiredService<IOptions<ImportOptions>>().Value.AllowedHosts));
        builder.Services.AddSingleton<RepoFetcher>();
        builder.Services.AddSingleton<RepoStates>();
        builder.Services.AddSingleton<ImportMetrics>();
        builder.Services.AddSingleton<RepoImporter>();
        return builder;
    }

    internal static void AddImportWorker(this IServiceCollection services) => services.AddHostedService<ImportWorker>();
}
