using AtSync.Core.Storage;
using AtSync.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using MySqlConnector;

namespace AtSync.Tests.QueueWorker;

public sealed class OutboxMigrationTests
{
    [Fact]
    public async Task Triggers_install_through_a_connection_string_without_user_variables_and_rerun_harmlessly()
    {
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync();
        // Production connection strings (from the AppHost) do not set AllowUserVariables.
        var connectionString = new MySqlConnectionStringBuilder(database.ConnectionString) { AllowUserVariables = false }.ConnectionString;
        await using var dataSource = new MySqlDataSource(connectionString);
        var migrator = new SchemaMigrator(dataSource, database.Tables, TimeProvider.System, NullLogger<SchemaMigrator>.Instance);
        await migrator.MigrateAsync(SchemaMigrations.All, CancellationToken.None);

        var triggers = await database.ScalarAsync<long>(
            $"SELECT COUNT(*) FROM information_schema.triggers WHERE trigger_schema = DATABASE() AND event_object_table = '{database.Tables.PhpbbPosts}'");
        Assert.Equal(3, triggers);

        // A migration is recorded once; re-running its statements (a crash after they ran) must not fail.
        var outbox = SchemaMigrations.All.Single(m => m.Version == 200);
        await using var connection = await dataSource.OpenConnectionAsync();
        foreach (var statement in outbox.Statements(database.Tables))
        {
            await using var command = new MySqlCommand(statement, connection);
            await command.ExecuteNonQueryAsync();
        }
        Assert.Equal(3, await database.ScalarAsync<long>(
            $"SELECT COUNT(*) FROM information_schema.triggers WHERE trigger_schema = DATABASE() AND event_object_table = '{database.Tables.PhpbbPosts}'"));
    }
}
