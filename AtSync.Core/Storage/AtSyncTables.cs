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

    /// <summary>Firehose: one (minute, cursor) sample per stream and minute, for rewinds by time (migration 700).</summary>
    public string CursorSamples => Prefix + "atproto_cursor_samples";
    public string Queue => Prefix + "atproto_queue";
    public string Users => Prefix + "atproto_users";
    public string Posts => Prefix + "atproto_posts";
    public string Forums => Prefix + "atproto_forums";
    public string Labels => Prefix + "atproto_labels";

    /// <summary>Firehose: replies waiting for their topic's first post (migration 100).</summary>
    public string ParkedPosts => Prefix + "atproto_parked_posts";

    /// <summary>Firehose: account status per DID from <c>#account</c> events (migration 100).</summary>
    public string Accounts => Prefix + "atproto_accounts";

    /// <summary>Firehose: the commit revision of the last operation applied to each forum record (migration 100).</summary>
    public string RecordRevisions => Prefix + "atproto_record_revs";

    /// <summary>Firehose: per-DID sync state, the last verified commit and status (migration 400).</summary>
    public string Repos => Prefix + "atproto_repos";

    /// <summary>Firehose: live commits waiting while their repository is not active (migration 400).</summary>
    public string HeldCommits => Prefix + "atproto_held_commits";

    /// <summary>Firehose posting policy: DIDs the forum allows or bans (migration 203).</summary>
    public string DidAccess => Prefix + "atproto_did_access";

    /// <summary>Linking: OAuth sign-ins between the redirect to the authorization server and its callback (migration 600).</summary>
    public string OAuthRequests => Prefix + "atproto_oauth_requests";

    public string PhpbbUsers => Prefix + "users";
    public string PhpbbSessions => Prefix + "sessions";
    public string PhpbbConfig => Prefix + "config";
    public string PhpbbForums => Prefix + "forums";
    public string PhpbbTopics => Prefix + "topics";
    public string PhpbbPosts => Prefix + "posts";
    public string PhpbbBanlist => Prefix + "banlist";
    public string PhpbbGroups => Prefix + "groups";
    public string PhpbbUserGroup => Prefix + "user_group";
    public string PhpbbModeratorCache => Prefix + "moderator_cache";
    public string PhpbbAclOptions => Prefix + "acl_options";
    public string PhpbbAclRolesData => Prefix + "acl_roles_data";
    public string PhpbbAclUsers => Prefix + "acl_users";
    public string PhpbbAclGroups => Prefix + "acl_groups";
}
