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

    IReadOnlyList<string> Statements(AtSyncTables tables);
}
