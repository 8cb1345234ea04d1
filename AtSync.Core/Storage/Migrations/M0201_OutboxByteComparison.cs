using AtSync.Core.Forum;

namespace AtSync.Core.Storage.Migrations;

/// <summary>
/// Replaces the outbox's update trigger (<see cref="M0200_QueueOutbox"/>) with one that compares
/// <c>post_text</c> and <c>post_subject</c> byte for byte. phpBB's installer gives <c>post_subject</c> the collation
/// <c>utf8_unicode_ci</c> (AtSync.Tests/Infrastructure/phpbb33-schema.sql), under which "hello" equals "Hello" and
/// "resume" equals "résumé": a comparison under it lets such an edit go unpublished. <c>CAST(… AS BINARY)</c> compares
/// bytes on MySQL 8.0+ and MariaDB 10.6+ alike (the <c>BINARY</c> operator is deprecated in MySQL 8.0.27).
/// The posts table is write-locked while the trigger is swapped, so no phpBB edit falls between the drop and the create.
/// </summary>
internal sealed class M0201_OutboxByteComparison : ISchemaMigration
{
    public int Version => 201;

    public string Name => "outbox update trigger compares bytes";

    public bool CreatesTriggers => true;

    public IReadOnlyList<string> RequiredTables(AtSyncTables t) => [t.PhpbbPosts];

    public IReadOnlyList<string> Statements(AtSyncTables t)
    {
        const int Visible = PhpbbConstants.ItemApproved;
        var origin = OutboxOrigin.QuotedSessionVariable;
        return
        [
            $"LOCK TABLES {t.PhpbbPosts} WRITE",
            $"DROP TRIGGER IF EXISTS {t.Prefix}atsync_post_update",
            $"""
            CREATE TRIGGER {t.Prefix}atsync_post_update AFTER UPDATE ON {t.PhpbbPosts} FOR EACH ROW
            BEGIN
              IF {origin} IS NULL THEN
                IF OLD.post_visibility = {Visible} AND NEW.post_visibility <> {Visible} THEN
                  {M0200_QueueOutbox.Enqueue(t, QueueOperation.Delete, "NEW")};
                ELSEIF OLD.post_visibility <> {Visible} AND NEW.post_visibility = {Visible} THEN
                  {M0200_QueueOutbox.Enqueue(t, QueueOperation.Create, "NEW")};
                ELSEIF NEW.post_visibility = {Visible}
                  AND (NOT (CAST(OLD.post_text AS BINARY) <=> CAST(NEW.post_text AS BINARY))
                    OR NOT (CAST(OLD.post_subject AS BINARY) <=> CAST(NEW.post_subject AS BINARY))) THEN
                  {M0200_QueueOutbox.Enqueue(t, QueueOperation.Update, "NEW")};
                END IF;
              END IF;
            END
            """,
            "UNLOCK TABLES",
        ];
    }
}
