using AtSync.Core.Forum;

namespace AtSync.Core.Storage.Migrations;

/// <summary>
/// The outbox triggers again (<see cref="M0200_QueueOutbox"/>, <see cref="M0201_OutboxByteComparison"/>), now enqueueing
/// only for posters whose <c>atproto_users</c> row holds a session (<see cref="LinkedSession"/>). A post the Firehose
/// stored for a network author belongs to a user with no tokens: a moderator hiding, editing, approving or deleting it
/// in phpBB changes phpBB only, where before it queued a write that could only dead-letter ("no stored tokens") and
/// tripped the dead-letter alert. The posts table is write-locked while the triggers are swapped (as in migration 201),
/// so no phpBB change falls between a drop and its create.
/// </summary>
internal sealed class M0202_OutboxLinkedAuthorsOnly : ISchemaMigration
{
    public int Version => 202;

    public string Name => "outbox triggers only for authors with a session";

    public bool CreatesTriggers => true;

    public IReadOnlyList<string> RequiredTables(AtSyncTables t) => [t.PhpbbPosts];

    /// <summary>The statement a trigger runs to enqueue <paramref name="operation"/> for the post in <paramref name="row"/>, when its poster has a session.</summary>
    internal static string Enqueue(AtSyncTables t, QueueOperation operation, string row) =>
        M0200_QueueOutbox.Enqueue(t, operation, row) + " AND " + LinkedSession.HasSessionSql("u");

    public IReadOnlyList<string> Statements(AtSyncTables t)
    {
        const int Visible = PhpbbConstants.ItemApproved;
        var origin = OutboxOrigin.QuotedSessionVariable;
        return
        [
            $"LOCK TABLES {t.PhpbbPosts} WRITE",
            $"DROP TRIGGER IF EXISTS {t.Prefix}atsync_post_insert",
            $"""
            CREATE TRIGGER {t.Prefix}atsync_post_insert AFTER INSERT ON {t.PhpbbPosts} FOR EACH ROW
            BEGIN
              IF {origin} IS NULL AND NEW.post_visibility = {Visible} THEN
                {Enqueue(t, QueueOperation.Create, "NEW")};
              END IF;
            END
            """,
            $"DROP TRIGGER IF EXISTS {t.Prefix}atsync_post_update",
            $"""
            CREATE TRIGGER {t.Prefix}atsync_post_update AFTER UPDATE ON {t.PhpbbPosts} FOR EACH ROW
            BEGIN
              IF {origin} IS NULL THEN
                IF OLD.post_visibility = {Visible} AND NEW.post_visibility <> {Visible} THEN
                  {Enqueue(t, QueueOperation.Delete, "NEW")};
                ELSEIF OLD.post_visibility <> {Visible} AND NEW.post_visibility = {Visible} THEN
                  {Enqueue(t, QueueOperation.Create, "NEW")};
                ELSEIF NEW.post_visibility = {Visible}
                  AND (NOT (CAST(OLD.post_text AS BINARY) <=> CAST(NEW.post_text AS BINARY))
                    OR NOT (CAST(OLD.post_subject AS BINARY) <=> CAST(NEW.post_subject AS BINARY))) THEN
                  {Enqueue(t, QueueOperation.Update, "NEW")};
                END IF;
              END IF;
            END
            """,
            $"DROP TRIGGER IF EXISTS {t.Prefix}atsync_post_delete",
            $"""
            CREATE TRIGGER {t.Prefix}atsync_post_delete AFTER DELETE ON {t.PhpbbPosts} FOR EACH ROW
            BEGIN
              IF {origin} IS NULL AND OLD.post_visibility = {Visible} THEN
                {Enqueue(t, QueueOperation.Delete, "OLD")};
              END IF;
            END
            """,
            "UNLOCK TABLES",
        ];
    }
}
