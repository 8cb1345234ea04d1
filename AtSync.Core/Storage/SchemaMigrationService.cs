using AtSync.Core.Resilience;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MySqlConnector;

namespace AtSync.Core.Storage;

/// <summary>
/// Applies the schema when the service starts, retrying (1 s doubling to 30 s) while the database is unreachable,
/// then marks <see cref="DatabaseReadiness"/>. Runs in the background so the health endpoints answer meanwhile.
/// </summary>
internal sealed partial class SchemaMigrationService(
    SchemaMigrator migrator, DatabaseReadiness readiness, TimeProvider time, ILogger<SchemaMigrationService> logger) : BackgroundService
{
    private static readonly TimeSpan FirstDelay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan BlockedDelay = TimeSpan.FromSeconds(3);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var backoff = new Backoff(FirstDelay, MaxDelay);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var applied = await migrator.MigrateAsync(SchemaMigrations.All, stoppingToken);
                LogSchemaCurrent(applied.Count);
                readiness.MarkReady();
                return;
            }
            catch (SchemaBlockedException ex) when (!stoppingToken.IsCancellationRequested)
            {
                // One line for the operator, not one per retry; checked again every few seconds until it is fixed.
                if (readiness.Block(ex.Message)) LogBlocked(ex.Message);
                await Task.Delay(BlockedDelay, time, stoppingToken);
            }
            catch (Exception ex) when (ex is MySqlException or SchemaMigrationException or InvalidOperationException && !stoppingToken.IsCancellationRequested)
            {
                var delay = backoff.Next();
                LogRetry(ex.GetType().Name, ex is MySqlException mysql ? mysql.ErrorCode.ToString() : "-", delay.TotalSeconds);
                await Task.Delay(delay, time, stoppingToken);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "{Problem}")]
    private partial void LogBlocked(string problem);

    [LoggerMessage(Level = LogLevel.Information, Message = "Database schema is current ({Applied} migrations applied now)")]
    private partial void LogSchemaCurrent(int applied);

    // The exception's message is left out: MySqlConnector's messages can name hosts and users.
    [LoggerMessage(Level = LogLevel.Warning, Message = "Schema migration failed ({ExceptionType}, error {ErrorCode}); retrying in {DelaySeconds} s")]
    private partial void LogRetry(string exceptionType, string errorCode, double delaySeconds);
}
