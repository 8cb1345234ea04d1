using static AtSync.Core.Storage.TableOptions;

namespace AtSync.Core.Storage.Migrations;

/// <summary>
/// Per-repository sync state (DESIGN.md "Sync 1.1"): for each DID whose forum records the Firehose follows, the last
/// verified commit (<c>rev</c>, MST root <c>data_cid</c>) and where the repository stands
/// (<see cref="AtSync.Core.Sync.RepoStatus"/>). While a repository is not <c>active</c> its live commits wait, in
/// sequence order, in <c>atproto_held_commits</c> (the raw frame, so they go through verification again when
/// released); the stream's cursor moves on regardless, so one author never delays another. <c>seq</c> is the stream
/// position of the last verified commit: an older rev at or below it is a replay (a rewound cursor), not a stale commit.
/// </summary>
internal sealed class M0400_RepositoryStates : ISchemaMigration
{
    public int Version => 400;

    public string Name => "repository states";

    public IReadOnlyList<string> Statements(AtSyncTables t) =>
    [
        $"""
        CREATE TABLE IF NOT EXISTS {t.Repos} (
          did VARCHAR(255) {Ascii} NOT NULL,
          rev VARCHAR(32) {Ascii} NOT NULL DEFAULT '',
          data_cid VARCHAR(128) {Ascii} NOT NULL DEFAULT '',
          seq BIGINT UNSIGNED NOT NULL DEFAULT 0,
          status ENUM('active','parked','desynchronized','resync_requested','importing') NOT NULL DEFAULT 'active',
          reason VARCHAR(64) {Ascii} NOT NULL DEFAULT '',
          attempts SMALLINT UNSIGNED NOT NULL DEFAULT 0,
          retry_at BIGINT UNSIGNED NOT NULL DEFAULT 0,
          requested_by VARCHAR(16) {Ascii} NOT NULL DEFAULT '',
          requested_at BIGINT UNSIGNED NOT NULL DEFAULT 0,
          records_imported INT UNSIGNED NOT NULL DEFAULT 0,
          updated_at BIGINT UNSIGNED NOT NULL DEFAULT 0,
          PRIMARY KEY (did),
          KEY status_retry (status, retry_at)
        ) {InnoDbUtf8Mb4}
        """,
        $"""
        CREATE TABLE IF NOT EXISTS {t.HeldCommits} (
          did VARCHAR(255) {Ascii} NOT NULL,
          seq BIGINT UNSIGNED NOT NULL,
          stream VARCHAR(32) {Ascii} NOT NULL,
          frame MEDIUMBLOB NOT NULL,
          held_at BIGINT UNSIGNED NOT NULL DEFAULT 0,
          PRIMARY KEY (did, seq),
          KEY held_at (held_at)
        ) {InnoDbUtf8Mb4}
        """,
    ];
}
