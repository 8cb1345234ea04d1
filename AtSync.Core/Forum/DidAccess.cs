namespace AtSync.Core.Forum;

/// <summary>
/// What the forum decided about one DID (<c>atproto_did_access.access</c>, migration 203): allowed to post as a known
/// author (never moderated under <c>NETWORK_MODERATION=unknown</c>, admitted under <c>NETWORK_POSTERS=known</c>), or
/// banned (every post and edit refused). A DID without a row is neither.
/// </summary>
public enum DidAccess
{
    None,
    Allow,
    Ban,
}

public static class DidAccessSql
{
    public const string AllowSql = "allow";
    public const string BanSql = "ban";

    public static string ToSql(this DidAccess access) => access switch
    {
        DidAccess.Allow => AllowSql,
        DidAccess.Ban => BanSql,
        _ => throw new ArgumentOutOfRangeException(nameof(access), access, "no row stands for None"),
    };

    public static DidAccess Parse(string? value) => value switch
    {
        AllowSql => DidAccess.Allow,
        BanSql => DidAccess.Ban,
        _ => DidAccess.None,
    };
}
