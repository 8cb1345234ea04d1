namespace AtSync.Core.Storage;

/// <summary>
/// One versioned step of AtSync's schema. Each lives in its own file under <c>Migrations/</c>; the version is its
/// place in the order (core 1–99, firehose 100–199, queue 200–299). MySQL commits DDL implicitly, so a step cannot be
/// rolled back: write each statement so that running it again after a crash part-way is harmless
/// (<c>CREATE TABLE IF NOT EXISTS</c>, <c>DROP TRIGGER IF EXISTS</c> before <c>CREATE TRIGGER</c>, …).
/// </summary>
public interface ISchemaMigration
{
    int Version { get; }

    string Name { get; }

    /// <summary>
    /// Whether the step creates triggers: the migrator then first checks that the account may
    /// (<see cref="TriggerPermission"/>), so that a server that forbids it is reported in one line, not retried blindly.
    /// </summary>
    bool CreatesTriggers => false;

    /// <summary>
    /// Tables the step needs that AtSync does not create (phpBB's, made by its installer): the migrator checks them first,
    /// so a missing one is reported by name in one line (and retried), not as a bare MySQL error number.
    /// </summary>
    IReadOnlyList<string> RequiredTables(AtSyncTables tables) => [];

    IReadOnlyList<string> Statements(AtSyncTables tables);
}
