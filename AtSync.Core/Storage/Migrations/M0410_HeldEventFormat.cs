using AtSync.Core.Sync;

namespace AtSync.Core.Storage.Migrations;

/// <summary>
/// Held events of either source (<see cref="HeldFormats"/>): a Jetstream event whose author's PDS cannot prove it now,
/// or whose repository is importing, waits in <c>atproto_held_commits</c> as a relay frame does (migration 400), its
/// JSON in <c>frame</c> and its <c>time_us</c> as <c>seq</c>. Existing rows are relay frames.
/// </summary>
internal sealed class M0410_HeldEventFormat : ISchemaMigration
{
    public int Version => 410;

    public string Name => "held event format";

    public IReadOnlyList<string> Statements(AtSyncTables t) =>
    [
        $"""
        ALTER TABLE {t.HeldCommits}
          ADD COLUMN format ENUM('{HeldFormats.Relay}','{HeldFormats.Jetstream}') NOT NULL DEFAULT '{HeldFormats.Relay}' AFTER stream
        """,
    ];
}
