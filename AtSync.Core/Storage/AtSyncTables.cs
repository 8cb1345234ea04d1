namespace AtSync.Core.Storage;

/// <summary>
/// Table names under phpBB's configured prefix (default <c>phpbb_</c>): phpBB's own tables that AtSync reads and
/// writes, and AtSync's <c>atproto_*</c> tables. The prefix is validated at start (letters, digits, underscores),
/// so the names are safe to place in SQL text.
/// </summary>
public sealed record AtSyncTables(string Prefix)
{
    public string SchemaMigrations => Prefix + "atproto_schema_migrations";
    public string Cursors => Prefix + "atproto_cursors";
    public string Queue => Prefix + "atproto_queue";
    public string Users => Prefix + "atproto_users";
    public string Posts => Prefix + "atproto_posts";
    public string Forums => Prefix + "atproto_forums";
    public string Labels => Prefix + "atproto_labels";

    public string PhpbbUsers => Prefix + "users";
    public string PhpbbForums => Prefix + "forums";
    public string PhpbbTopics => Prefix + "topics";
    public string PhpbbPosts => Prefix + "posts";
}
