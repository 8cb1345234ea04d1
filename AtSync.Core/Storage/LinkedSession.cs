namespace AtSync.Core.Storage;

/// <summary>
/// Whether an <c>atproto_users</c> row holds an AtSync session (tokens stored by the linking flow or an operator),
/// as SQL: the one home of that condition for the outbox triggers (migration 202) and the Firehose's posting policy.
/// Users the Firehose created for network authors are rows without tokens: phpBB changes to their posts are phpBB's own.
/// </summary>
public static class LinkedSession
{
    /// <summary>The condition on the row aliased <paramref name="alias"/>.</summary>
    public static string HasSessionSql(string alias) =>
        $"(COALESCE({alias}.refresh_token, '') <> '' OR COALESCE({alias}.access_token, '') <> '')";
}
