using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using MySqlConnector;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// The MySQL data source read the way Aspire's MySqlConnector integration reads it: the connection string
/// <c>ConnectionStrings:{name}</c> (environment <c>ConnectionStrings__{name}</c>), overridable by
/// <c>Aspire:MySqlConnector:ConnectionString</c>; registered as a singleton <see cref="MySqlDataSource"/> with a health
/// check. MySqlConnector's own ActivitySource and Meter ("MySqlConnector") are exported by <c>AddServiceDefaults</c>.
/// </summary>
public static class MySqlDataSourceExtensions
{
    public const string HealthCheckName = "mysql";

    public static TBuilder AddMySqlDataSource<TBuilder>(this TBuilder builder, string connectionName) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddSingleton(services =>
        {
            var configuration = services.GetRequiredService<IConfiguration>();
            var connectionString = configuration["Aspire:MySqlConnector:ConnectionString"] ?? configuration.GetConnectionString(connectionName);
            if (string.IsNullOrWhiteSpace(connectionString))
            {
                throw new InvalidOperationException($"ConnectionStrings__{connectionName} is missing.");
            }
            return new MySqlDataSourceBuilder(connectionString)
                .UseLoggerFactory(services.GetService<ILoggerFactory>())
                .Build();
        });
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            HealthCheckName,
            services => new MySqlPingHealthCheck(services.GetRequiredService<MySqlDataSource>()),
            failureStatus: HealthStatus.Unhealthy,
            tags: ["ready"],
            timeout: TimeSpan.FromSeconds(5)));
        return builder;
    }
}

/// <summary>Healthy when a connection opens and answers a ping. Reports no server, user or exception text.</summary>
public sealed class MySqlPingHealthCheck(MySqlDataSource dataSource) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            return await connection.PingAsync(cancellationToken).ConfigureAwait(false)
                ? HealthCheckResult.Healthy("database reachable")
                : new HealthCheckResult(context.Registration.FailureStatus, "database did not answer a ping");
        }
        catch (Exception ex) when (ex is MySqlException or InvalidOperationException or OperationCanceledException or System.Net.Sockets.SocketException)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, "database unreachable");
        }
    }
}
