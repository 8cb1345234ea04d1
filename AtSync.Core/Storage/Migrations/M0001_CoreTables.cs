using static AtSync.Core.Storage.TableOptions;

namespace AtSync.Core.Storage.Migrations;

/// <summary>The <c>atproto_*</c> tables of docs/design.md's data contract. Times are unix seconds.</summary>
internal sealed class M0001_CoreTables : ISchemaMigration
{
    public int Version => 1;

    public string Name => "core tables";

    public IReadOnlyList<string> Statements(AtSyncTables t) =>
    [
        $"""
        CREATE TABLE IF NOT EXISTS {t.Cursors} (
          service VARCHAR(32) {Ascii} NOT NULL,
          cursor_value BIGINT UNSIGNED NOT NULL DEFAULT 0,
          updated_at BIGINT UNSIGNED NOT NULL DEFAULT 0,
          PRIMARY KEY (service)
        ) {InnoDbUtf8Mb4}
        """,
        $"""
        CREATE TABLE IF NOT EXISTS {t.Queue} (
          id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
          operation ENUM('create','update','delete') NOT NULL,
          collection VARCHAR(317) {Ascii} NOT NULL,
          rkey VARCHAR(512) {Ascii} NOT NULL DEFAULT '',
          record_data LONGTEXT NULL,
          user_did VARCHAR(255) {Ascii} NOT NULL,
          local_id INT UNSIGNED NULL,
          status ENUM('pending','processing','done','dead_letter') NOT NULL DEFAULT 'pending',
          attempts SMALLINT UNSIGNED NOT NULL DEFAULT 0,
          max_attempts SMALLINT UNSIGNED NOT NULL DEFAULT 5,
          last_error TEXT NULL,
          next_retry_at BIGINT UNSIGNED NOT NULL DEFAULT 0,
          created_at BIGINT UNSIGNED NOT NULL,
          updated_at BIGINT UNSIGNED NOT NULL DEFAULT 0,
          PRIMARY KEY (id),
          KEY status_next_retry (status, next_retry_at),
          KEY local_id (local_id),
          CONSTRAINT {t.Queue}_record_json CHECK (record_data IS NULL OR JSON_VALID(record_data))
        ) {InnoDbUtf8Mb4}
        """,
        $"""
        CREATE TABLE IF NOT EXISTS {t.Users} (
          user_id INT UNSIGNED NOT NULL,
          did VARCHAR(255) {Ascii} NOT NULL,
          handle VARCHAR(253) {Ascii} NOT NULL DEFAULT '',
          pds_url VARCHAR(512) NOT NULL DEFAULT '',
          access_token TEXT NULL,
          refresh_token TEXT NULL,
          token_expires_at BIGINT UNSIGNED NULL,
          created_at BIGINT UNSIGNED NOT NULL DEFAULT 0,
          updated_at BIGINT UNSIGNED NOT NULL DEFAULT 0,
          PRIMARY KEY (user_id),
          UNIQUE KEY did (did)
        ) {InnoDbUtf8Mb4}
        """,
        $"""
        CREATE TABLE IF NOT EXISTS {t.Posts} (
          post_id INT UNSIGNED NOT NULL,
          at_uri VARCHAR(760) {Ascii} NULL,
          at_cid VARCHAR(128) {Ascii} NULL,
          author_did VARCHAR(255) {Ascii} NOT NULL DEFAULT '',
          is_topic_starter TINYINT(1) NOT NULL DEFAULT 0,
          sync_status VARCHAR(16) {Ascii} NOT NULL DEFAULT 'pending',
          created_at BIGINT UNSIGNED NOT NULL DEFAULT 0,
          updated_at BIGINT UNSIGNED NOT NULL DEFAULT 0,
          PRIMARY KEY (post_id),
          UNIQUE KEY at_uri (at_uri),
          KEY author_did (author_did)
        ) {InnoDbUtf8Mb4}
        """,
        $"""
        CREATE TABLE IF NOT EXISTS {t.Forums} (
          forum_id MEDIUMINT UNSIGNED NOT NULL,
          at_uri VARCHAR(760) {Ascii} NOT NULL,
          at_cid VARCHAR(128) {Ascii} NOT NULL DEFAULT '',
          slug VARCHAR(50) NOT NULL DEFAULT '',
          PRIMARY KEY (forum_id),
          UNIQUE KEY at_uri (at_uri)
        ) {InnoDbUtf8Mb4}
        """,
        $"""
        CREATE TABLE IF NOT EXISTS {t.Labels} (
          id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
          subject_uri VARCHAR(760) {Ascii} NOT NULL,
          label_value VARCHAR(128) {Ascii} NOT NULL,
          label_src VARCHAR(255) {Ascii} NOT NULL,
          subject_cid VARCHAR(128) {Ascii} NULL,
          negated TINYINT(1) NOT NULL DEFAULT 0,
          expires_at BIGINT UNSIGNED NULL,
          created_at BIGINT UNSIGNED NOT NULL DEFAULT 0,
          updated_at BIGINT UNSIGNED NOT NULL DEFAULT 0,
          PRIMARY KEY (id),
          UNIQUE KEY subject_value_src (subject_uri, label_value, label_src)
        ) {InnoDbUtf8Mb4}
        """,
    ];
}
