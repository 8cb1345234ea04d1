using Microsoft.Extensions.Logging;
using MySqlConnector;

namespace AtSync.Core.Storage;

/// <summary>
/// Applies pending <see cref="ISchemaMigration"/>s and records each in <c>atproto_schema_migrations</c>.
/// Holds a MySQL named lock (<c>GET_LOCK</c>) for the whole run, so services starting at the same moment
/// apply each version exactly once: the second waits, then finds nothing left to do.
/// </summary>
public sealed partial class SchemaMigrator(MySqlDataSource dataSource, AtSyncTables tables, TimeProvider time, ILogger<SchemaMigrator> logger)
{
    public static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(60);

    /// <summary>Returns the versions this call applied (empty when the schema was already current).</summary>
    public async Task<IReadOnlyList<int>> MigrateAsync(IReadOnlyList<ISchemaMigration> migrations, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        // The steps are written to be re-run (CREATE TABLE IF NOT EXISTS, DROP TRIGGER IF EXISTS), and each such
        // statement that finds nothing to do raises a note; as mysqldump does, this session does not record notes.
        await ExecuteAsync(connection, "SET SESSION sql_notes = 0", cancellationToken).ConfigureAwait(false);
        var lockName = LockName(connection.Database);
        await AcquireLockAsync(connection, lockName, cancellationToken).ConfigureAwait(false);
        try
        {
            await ExecuteAsync(connection, $"""
                CREATE TABLE IF NOT EXISTS {tables.SchemaMigrations} (
                  version INT UNSIGNED NOT NULL,
                  name VARCHAR(128) NOT NULL,
                  applied_at BIGINT UNSIGNED NOT NULL,
                  PRIMARY KEY (version)
                ) {TableOptions.InnoDbUtf8Mb4}
                """, cancellationToken).ConfigureAwait(false);

            var applied = await AppliedVersionsAsync(connection, cancellationToken).ConfigureAwait(false);
            var pending = migrations.Where(m => !applied.Contains(m.Version)).ToList();
            if (pending.Any(m => m.CreatesTriggers) && await TriggerPermission.CheckAsync(connection, cancellationToken).ConfigureAwait(false) is { } problem)
            {
                throw new SchemaBlockedException(problem);
            }
            var newlyApplied = new List<int>();
            foreach (var migration in pending)
            {
                foreach (var table in migration.RequiredTables(tables))
                {
                    if (!await TableExistsAsync(connection, table, cancellationToken).ConfigureAwait(false))
                    {
                        throw new SchemaBlockedException(
                            $"AtSync's schema migration {migration.Version} ({migration.Name}) needs the table {table}, which does not exist in this database: " +
                            "install phpBB (its installer creates it) or check PHPBB_TABLE_PREFIX; checking again every few seconds");
                    }
                }
                foreach (var statement in migration.Statements(tables))
                {
                    try
                    {
                        await ExecuteAsync(connection, statement, cancellationToken).ConfigureAwait(false);
                    }
                    catch (MySqlException ex) when (ex.ErrorCode == (MySqlErrorCode)TriggerPermission.NeedSuperErrorCode)
                    {
                        // The check above found SUPER (e.g. through a role) but the server still refused.
                        throw new SchemaBlockedException(TriggerPermission.Problem);
                    }
                }
                await using (var record = new MySqlCommand(
                    $"INSERT INTO {tables.SchemaMigrations} (version, name, applied_at) VALUES (@version, @name, @at)", connection))
                {
                    record.Parameters.AddWithValue("@version", migration.Version);
                    record.Parameters.AddWithValue("@name", migration.Name);
                    record.Parameters.AddWithValue("@at", time.GetUtcNow().ToUnixTimeSeconds());
                    await record.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }
                LogApplied(migration.Version, migration.Name);
                newlyApplied.Add(migration.Version);
            }

            var known = migrations.Select(m => m.Version).ToHashSet();
            foreach (var version in applied.Where(v => !known.Contains(v)))
            {
                LogUnknownVersion(version);
            }
            return newlyApplied;
        }
        finally
        {
            await ReleaseLockAsync(connection, lockName).ConfigureAwait(false);
        }
    }

    private string LockName(string database)
    {
        // GET_LOCK names are server-wide and at most 64 characters: scope by database and prefix.
        var name = $"atsync.migrate.{database}.{tables.Prefix}";
        return name.Length <= 64 ? name : name[..64];
    }

    private static async Task AcquireLockAsync(MySqlConnection connection, string lockName, CancellationToken cancellationToken)
    {
        await using var command = new MySqlCommand("SELECT GET_LOCK(@name, @timeout)", connection);
        command.Parameters.AddWithValue("@name", lockName);
        command.Parameters.AddWithValue("@timeout", (int)LockTimeout.TotalSeconds);
        var result = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        if (result is null or DBNull || Convert.ToInt64(result) != 1)
        {
            throw new SchemaMigrationException($"Timed out after {LockTimeout.TotalSeconds:0} s waiting for the schema migration lock held by another AtSync service.");
        }
    }

    private static async Task ReleaseLockAsync(MySqlConnection connection, string lockName)
    {
        try
        {
            await using var command = new MySqlCommand("SELECT RELEASE_LOCK(@name)", connection);
            command.Parameters.AddWithValue("@name", lockName);
            await command.ExecuteScalarAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (MySqlException)
        {
            // A lost connection released the lock already.
        }
    }

    private async Task<HashSet<int>> AppliedVersionsAsync(MySqlConnection connection, CancellationToken cancellationToken)
    {
        var versions = new HashSet<int>();
        await using var command = new MySqlCommand($"SELECT version FROM {tables.SchemaMigrations}", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            versions.Add(Convert.ToInt32(reader.GetValue(0)));
        }
        return versions;
    }

    private static async Task<bool> TableExistsAsync(MySqlConnection connection, string table, CancellationToken cancellationToken)
    {
        await using var command = new MySqlCommand(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = @table", connection);
        command.Parameters.AddWithValue("@table", table);
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false)) > 0;
    }

    private static async Task ExecuteAsync(MySqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new MySqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Applied schema migration {Version} ({Name})")]
    private partial void LogApplied(int version, string name);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The database records schema version {Version}, which this build does not know: a newer AtSync has migrated it")]
    private partial void LogUnknownVersion(int version);
}

public sealed class SchemaMigrationException(string message) : Exception(message);
