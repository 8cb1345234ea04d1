using static AtSync.Core.Storage.TableOptions;

namespace AtSync.Core.Storage.Migrations;

/// <summary>
/// The Firehose's own tables: replies parked until their topic's first post arrives, the account status the
/// relay reports per DID (<c>#account</c>), and the repository revision of the last operation applied to each forum
/// record (a replayed or older operation is recognised and skipped). Times are unix seconds.
/// </summary>
internal sealed class M0100_FirehoseTables : ISchemaMigration
{
    public int Version => 100;

    public string Name => "firehose parked posts, account status, record revisions";

    public IReadOnlyList<string> Statements(AtSyncTables t) =>
    [
        $"""
        CREATE TABLE IF NOT EXISTS {t.ParkedPosts} (
          at_uri VARCHAR(760) {Ascii} NOT NULL,
          root_uri VARCHAR(760) {Ascii} NOT NULL,
          author_did VARCHAR(255) {Ascii} NOT NULL,
          at_cid VARCHAR(128) {Ascii} NOT NULL DEFAULT '',
          record_json MEDIUMTEXT NOT NULL,
          event_time BIGINT UNSIGNED NOT NULL DEFAULT 0,
          seq BIGINT UNSIGNED NOT NULL DEFAULT 0,
          created_at BIGINT UNSIGNED NOT NULL DEFAULT 0,
          PRIMARY KEY (at_uri),
          KEY root_uri (root_uri, seq)
        ) {InnoDbUtf8Mb4}
        """,
        $"""
        CREATE TABLE IF NOT EXISTS {t.Accounts} (
          did VARCHAR(255) {Ascii} NOT NULL,
          active TINYINT(1) NOT NULL DEFAULT 1,
          status VARCHAR(64) {Ascii} NOT NULL DEFAULT '',
          updated_at BIGINT UNSIGNED NOT NULL DEFAULT 0,
          PRIMARY KEY (did)
        ) {InnoDbUtf8Mb4}
        """,
        $"""
        CREATE TABLE IF NOT EXISTS {t.RecordRevisions} (
          at_uri VARCHAR(760) {Ascii} NOT NULL,
          rev VARCHAR(32) {Ascii} NOT NULL,
          PRIMARY KEY (at_uri)
        ) {InnoDbUtf8Mb4}
        """,
    ];
}
