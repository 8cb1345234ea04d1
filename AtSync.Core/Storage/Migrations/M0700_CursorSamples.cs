using static AtSync.Core.Storage.TableOptions;

namespace AtSync.Core.Storage.Migrations;

/// <summary>
/// When each stream's cursor stood where (README: Operator command, <c>atsync cursor rewind</c>): relay sequence
/// numbers carry no time, so the Firehose records one (minute, cursor) sample per stream and minute, in the same
/// transaction as the cursor (the first cursor committed in that minute), and keeps
/// <see cref="CursorSampleRetention.Days"/> days of them. A rewind by a duration looks up the last sample at or
/// before now minus that duration.
/// </summary>
internal sealed class M0700_CursorSamples : ISchemaMigration
{
    public int Version => 700;

    public string Name => "cursor samples";

    public IReadOnlyList<string> Statements(AtSyncTables t) =>
    [
        $"""
        CREATE TABLE IF NOT EXISTS {t.CursorSamples} (
          service VARCHAR(32) {Ascii} NOT NULL,
          sampled_at BIGINT UNSIGNED NOT NULL,
          cursor_value BIGINT UNSIGNED NOT NULL,
          PRIMARY KEY (service, sampled_at)
        ) {InnoDbUtf8Mb4}
        """,
    ];
}
