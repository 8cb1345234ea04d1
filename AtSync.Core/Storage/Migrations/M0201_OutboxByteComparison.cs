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

    public IReadOnlyList<string> Statements(AtSyncTables t)
    {
        var origin = OutboxOrigin.QuotedSessionVariable;
        return
        [
            $"LOCK TABLES {t.PhpbbPosts} WRITE",
            $"DROP TRIGGER IF EXISTS {t.Prefix}atsync_post_update",
            $"""
            CREATE TRIGGER {t.Prefix}atsync_post_update AFTER UPDATE ON {t.PhpbbPosts} FOR EACH ROW
            BEGIN
              IF {origin} IS NULL THEN
                IF OLD.post_visibility = 1 AND NEW.post_visibility <> 1 THEN
                  {M0200_QueueOutbox.Enqueue(t, "delete", "NEW")};
                ELSEIF OLD.post_visibility <> 1 AND NEW.post_visibility = 1 THEN
                  {M0200_QueueOutbox.Enqueue(t, "create", "NEW")};
                ELSEIF NEW.post_visibility = 1
                  AND (NOT (CAST(OLD.post_text AS BINARY) <=> CAST(NEW.post_text AS BINARY))
                    OR NOT (CAST(OLD.post_subject AS BINARY) <=> CAST(NEW.post_subject AS BINARY))) THEN
                  {M0200_QueueOutbox.Enqueue(t, "update", "NEW")};
                END IF;
              END IF;
            END
            """,
            "UNLOCK TABLES",
        ];
    }
}
