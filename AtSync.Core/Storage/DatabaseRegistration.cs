using AtSync.Core.Settings;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace AtSync.Core.Storage;

public static class DatabaseRegistration
{
    public const string SchemaHealthCheckName = "schema";

    /// <summary>
    /// The phpBB database for an AtSync service: settings (<c>ConnectionStrings__phpbb</c>, <c>PHPBB_TABLE_PREFIX</c>),
    /// the <c>MySqlDataSource</c> with its health check, the table names, and the schema migrations applied at start.
    /// </summary>
    public static TBuilder AddAtSyncDatabase<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.AddDatabaseSettings();
        builder.AddMySqlDataSource(SettingNames.ConnectionStringName);
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddSingleton(services => new AtSyncTables(services.GetRequiredService<IOptions<DatabaseOptions>>().Value.TablePrefix));
        builder.Services.TryAddSingleton<SchemaMigrator>();
        builder.Services.TryAddSingleton<DatabaseReadiness>();
        builder.Services.AddHostedService<SchemaMigrationService>();
        builder.Services.AddHealthChecks().AddCheck<SchemaHealthCheck>(SchemaHealthCheckName, tags: ["ready"]);
        return builder;
    }
}

internal sealed class SchemaHealthCheck(DatabaseReadiness readiness) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(readiness.IsReady
            ? HealthCheckResult.Healthy("schema current")
            : new HealthCheckResult(context.Registration.FailureStatus, readiness.Blocker ?? "schema migrations not applied yet"));
}
