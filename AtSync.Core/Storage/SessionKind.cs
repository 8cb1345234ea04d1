namespace AtSync.Core.Storage;

/// <summary>How a linked user's session in <c>atproto_users</c> was made, and so how it is used and refreshed.</summary>
public enum SessionKind
{
    /// <summary>Legacy: <c>Authorization: Bearer</c>, refreshed with <c>com.atproto.server.refreshSession</c> at the PDS.</summary>
    AppPassword,

    /// <summary>AT OAuth: DPoP-bound tokens, refreshed at the authorization server's token endpoint with the session's DPoP key.</summary>
    OAuth,
}

/// <summary>The one SQL spelling of each <see cref="SessionKind"/> (column <c>session_kind</c>, migration 600).</summary>
public static class SessionKinds
{
    public const string AppPasswordSql = "app_password";
    public const string OAuthSql = "oauth";

    public static string ToSql(this SessionKind kind) => kind switch
    {
        SessionKind.OAuth => OAuthSql,
        _ => AppPasswordSql,
    };

    public static SessionKind Parse(string? sql) => sql == OAuthSql ? SessionKind.OAuth : SessionKind.AppPassword;
}
