using AtSync.Core.Forum;
using static AtSync.Core.Storage.TableOptions;

namespace AtSync.Core.Storage.Migrations;

/// <summary>
/// Every phpBB forum becomes a board record, categories and links too (<c>boardType</c> from <c>forum_type</c>), so
/// the records carry phpBB's tree (<c>parent</c>). The triggers of migration 500 are replaced by ones that enqueue a
/// board row for a forum of any type (same rule for what counts as a change). <c>atproto_forums.parent_cid</c>
/// remembers the parent CID the record was last written with: the reconcile rewrites a child whose parent's record
/// has since got a new CID (a rename of a category), so its strong ref stays current.
/// </summary>
internal sealed class M0510_BoardTree : ISchemaMigration
{
    public int Version => 510;

    public string Name => "board records for categories and links";

    public bool CreatesTriggers => true;

    public IReadOnlyList<string> Statements(AtSyncTables t)
    {
        string Enqueue(QueueOperation operation, string row) => M0500_BoardOutbox.Enqueue(t, operation, row);
        var origin = OutboxOrigin.QuotedSessionVariable;
        static string Differs(string column) => $"NOT (CAST(OLD.{column} AS BINARY) <=> CAST(NEW.{column} AS BINARY))";
        var changed = $"""
            {Differs("forum_name")} OR {Differs("forum_desc")} OR {Differs("forum_rules")} OR {Differs("forum_link")}
              OR OLD.forum_type <> NEW.forum_type OR OLD.forum_status <> NEW.forum_status OR OLD.parent_id <> NEW.parent_id OR OLD.left_id <> NEW.left_id
            """;
        return
        [
            $"DROP TRIGGER IF EXISTS {t.Prefix}atsync_forum_insert",
            $"""
            CREATE TRIGGER {t.Prefix}atsync_forum_insert AFTER INSERT ON {t.PhpbbForums} FOR EACH ROW
            BEGIN
              IF {origin} IS NULL THEN
                {Enqueue(QueueOperation.Create, "NEW")};
              END IF;
            END
            """,
            $"DROP TRIGGER IF EXISTS {t.Prefix}atsync_forum_update",
            $"""
            CREATE TRIGGER {t.Prefix}atsync_forum_update AFTER UPDATE ON {t.PhpbbForums} FOR EACH ROW
            BEGIN
              IF {origin} IS NULL AND ({changed}) THEN
                {Enqueue(QueueOperation.Update, "NEW")};
              END IF;
            END
            """,
            $"DROP TRIGGER IF EXISTS {t.Prefix}atsync_forum_delete",
            $"""
            CREATE TRIGGER {t.Prefix}atsync_forum_delete AFTER DELETE ON {t.PhpbbForums} FOR EACH ROW
            BEGIN
              IF {origin} IS NULL THEN
                {Enqueue(QueueOperation.Delete, "OLD")};
              END IF;
            END
            """,
            // Last, so that a run that failed part-way repeats the (idempotent) triggers and then adds the column.
            $"ALTER TABLE {t.Forums} ADD COLUMN parent_cid VARCHAR(128) {Ascii} NULL",
        ];
    }
}
