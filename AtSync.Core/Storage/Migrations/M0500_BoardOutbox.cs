using AtSync.Core.Forum;

namespace AtSync.Core.Storage.Migrations;

/// <summary>
/// The outbox for board records: triggers on phpBB's forums table that enqueue a <c>net.vza.forum.board</c> row in
/// <c>atproto_queue</c> (<c>local_id</c> = <c>forum_id</c>, <c>user_did</c> = the forum account's DID, from its
/// <c>atproto_users</c> row <see cref="ForumAccount.UserId"/>), in the same transaction as the forum change. A row
/// means "bring this forum's board record in step": the QueueWorker decides from the forum's current row and its
/// <c>atproto_forums</c> mapping whether to create, put or delete (so a duplicate row is harmless). Only what the
/// record shows counts as a change (name, description, rules, type, status, link, parent, position); phpBB's counters and
/// last-post columns, updated on every post, do not. Before the forum account has a session no row is enqueued:
/// the QueueWorker's reconcile at start (and every few minutes) publishes what is missing.
/// </summary>
internal sealed class M0500_BoardOutbox : ISchemaMigration
{
    public int Version => 500;

    public string Name => "board outbox triggers on forums";

    public bool CreatesTriggers => true;

    /// <summary>The statement that enqueues <paramref name="operation"/> for the forum in <paramref name="row"/> (NEW or OLD).</summary>
    internal static string Enqueue(AtSyncTables t, QueueOperation operation, string row) => $"""
        INSERT INTO {t.Queue} (operation, collection, rkey, record_data, user_did, local_id, status, attempts, max_attempts, next_retry_at, created_at, updated_at)
            SELECT '{operation.ToSql()}', '{ForumLexicon.Board}', '', NULL, u.did, {row}.forum_id, '{QueueStatus.Pending.ToSql()}', 0, 5, 0, UNIX_TIMESTAMP(), UNIX_TIMESTAMP()
            FROM {t.Users} u WHERE u.user_id = {ForumAccount.UserId}
        """;

    public IReadOnlyList<string> Statements(AtSyncTables t)
    {
        const int Post = PhpbbConstants.ForumPost;
        string Enqueue(QueueOperation operation, string row) => M0500_BoardOutbox.Enqueue(t, operation, row);
        var origin = OutboxOrigin.QuotedSessionVariable;
        // <=> is NULL-safe; the texts are compared as bytes, so an edit of case or accents counts (see M0201).
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
              IF {origin} IS NULL AND NEW.forum_type = {Post} THEN
                {Enqueue(QueueOperation.Create, "NEW")};
              END IF;
            END
            """,
            $"DROP TRIGGER IF EXISTS {t.Prefix}atsync_forum_update",
            $"""
            CREATE TRIGGER {t.Prefix}atsync_forum_update AFTER UPDATE ON {t.PhpbbForums} FOR EACH ROW
            BEGIN
              IF {origin} IS NULL AND (OLD.forum_type = {Post} OR NEW.forum_type = {Post}) AND ({changed}) THEN
                IF NEW.forum_type <> {Post} THEN
                  {Enqueue(QueueOperation.Delete, "NEW")};
                ELSEIF OLD.forum_type <> {Post} THEN
                  {Enqueue(QueueOperation.Create, "NEW")};
                ELSE
                  {Enqueue(QueueOperation.Update, "NEW")};
                END IF;
              END IF;
            END
            """,
            $"DROP TRIGGER IF EXISTS {t.Prefix}atsync_forum_delete",
            $"""
            CREATE TRIGGER {t.Prefix}atsync_forum_delete AFTER DELETE ON {t.PhpbbForums} FOR EACH ROW
            BEGIN
              IF {origin} IS NULL AND OLD.forum_type = {Post} THEN
                {Enqueue(QueueOperation.Delete, "OLD")};
              END IF;
            END
            """,
        ];
    }
}
