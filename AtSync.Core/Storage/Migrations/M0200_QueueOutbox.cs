using AtSync.Core.Forum;

namespace AtSync.Core.Storage.Migrations;

/// <summary>
/// The transactional outbox: triggers on phpBB's posts table that enqueue a <c>net.vza.forum.post</c> write in
/// <c>atproto_queue</c>, in the same transaction as the post change, for posters linked in <c>atproto_users</c>.
/// Rows written by a session marked with <see cref="OutboxOrigin.SessionVariable"/> (the Firehose) are not enqueued.
/// Visible posts only (<c>post_visibility = 1</c>, ITEM_APPROVED): approving a post creates it, hiding/soft-deleting deletes it, an
/// edit of text or subject updates it, deleting the row deletes it. The worker builds the record from the phpBB rows
/// when it processes the queue row (<c>record_data</c> NULL), so replies pick up their topic's published refs.
/// The update trigger is replaced by <see cref="M0201_OutboxByteComparison"/>: this one compared the texts under
/// their column collations and missed edits that only change case or accents.
/// </summary>
internal sealed class M0200_QueueOutbox : ISchemaMigration
{
    public int Version => 200;

    public string Name => "queue outbox triggers on posts";

    public bool CreatesTriggers => true;

    public IReadOnlyList<string> RequiredTables(AtSyncTables t) => [t.PhpbbPosts];

    /// <summary>The statement a trigger runs to enqueue <paramref name="operation"/> for the post in <paramref name="row"/> (NEW or OLD).</summary>
    internal static string Enqueue(AtSyncTables t, QueueOperation operation, string row) => $"""
        INSERT INTO {t.Queue} (operation, collection, rkey, record_data, user_did, local_id, status, attempts, max_attempts, next_retry_at, created_at, updated_at)
            SELECT '{operation.ToSql()}', '{ForumLexicon.Post}', '', NULL, u.did, {row}.post_id, '{QueueStatus.Pending.ToSql()}', 0, 5, 0, UNIX_TIMESTAMP(), UNIX_TIMESTAMP()
            FROM {t.Users} u WHERE u.user_id = {row}.poster_id
        """;

    public IReadOnlyList<string> Statements(AtSyncTables t)
    {
        const int Visible = PhpbbConstants.ItemApproved;
        string Enqueue(QueueOperation operation, string row) => M0200_QueueOutbox.Enqueue(t, operation, row);

        var origin = OutboxOrigin.QuotedSessionVariable;
        return
        [
            $"DROP TRIGGER IF EXISTS {t.Prefix}atsync_post_insert",
            $"""
            CREATE TRIGGER {t.Prefix}atsync_post_insert AFTER INSERT ON {t.PhpbbPosts} FOR EACH ROW
            BEGIN
              IF {origin} IS NULL AND NEW.post_visibility = {Visible} THEN
                {Enqueue(QueueOperation.Create, "NEW")};
              END IF;
            END
            """,
            $"DROP TRIGGER IF EXISTS {t.Prefix}atsync_post_update",
            $"""
            CREATE TRIGGER {t.Prefix}atsync_post_update AFTER UPDATE ON {t.PhpbbPosts} FOR EACH ROW
            BEGIN
              IF {origin} IS NULL THEN
                IF OLD.post_visibility = {Visible} AND NEW.post_visibility <> {Visible} THEN
                  {Enqueue(QueueOperation.Delete, "NEW")};
                ELSEIF OLD.post_visibility <> {Visible} AND NEW.post_visibility = {Visible} THEN
                  {Enqueue(QueueOperation.Create, "NEW")};
                ELSEIF NEW.post_visibility = {Visible} AND (NOT (OLD.post_text <=> NEW.post_text) OR NOT (OLD.post_subject <=> NEW.post_subject)) THEN
                  {Enqueue(QueueOperation.Update, "NEW")};
                END IF;
              END IF;
            END
            """,
            $"DROP TRIGGER IF EXISTS {t.Prefix}atsync_post_delete",
            $"""
            CREATE TRIGGER {t.Prefix}atsync_post_delete AFTER DELETE ON {t.PhpbbPosts} FOR EACH ROW
            BEGIN
              IF {origin} IS NULL AND OLD.post_visibility = {Visible} THEN
                {Enqueue(QueueOperation.Delete, "OLD")};
              END IF;
            END
            """,
        ];
    }
}
