using AtSync.Core.Forum;
using static AtSync.Core.Storage.TableOptions;

namespace AtSync.Core.Storage.Migrations;

/// <summary>
/// <c>atproto_did_access</c>: the forum's own list of DIDs it allows or bans (<see cref="DidAccess"/>), read by the
/// Firehose's posting policy for every network post; an operator adds a row, no restart needed.
/// </summary>
internal sealed class M0203_DidAccess : ISchemaMigration
{
    public int Version => 203;

    public string Name => "did access list";

    public IReadOnlyList<string> Statements(AtSyncTables t) =>
    [
        $"""
        CREATE TABLE IF NOT EXISTS {t.DidAccess} (
          did VARCHAR(255) {Ascii} NOT NULL,
          access ENUM('{DidAccessSql.AllowSql}','{DidAccessSql.BanSql}') NOT NULL,
          reason VARCHAR(255) NOT NULL DEFAULT '',
          created_at BIGINT UNSIGNED NOT NULL DEFAULT 0,
          PRIMARY KEY (did)
        ) {InnoDbUtf8Mb4}
        """,
    ];
}
