using static AtSync.Core.Storage.TableOptions;

namespace AtSync.Core.Storage.Migrations;

/// <summary>
/// AT OAuth sessions (DESIGN.md "Accounts and sessions"): per user the session kind, the authorization server
/// (issuer and its token and revocation endpoints), the granted scope and the session's DPoP private key (sealed with
/// the token cipher, like the tokens). Pending sign-ins wait in <c>atproto_oauth_requests</c> between the redirect
/// and the callback; a callback consumes its row, so a replayed callback finds nothing.
/// </summary>
internal sealed class M0600_OAuthSessions : ISchemaMigration
{
    public int Version => 600;

    public string Name => "oauth sessions";

    public IReadOnlyList<string> Statements(AtSyncTables t) =>
    [
        // One statement: InnoDB applies all columns or none, so a failed run can simply be repeated.
        $"""
        ALTER TABLE {t.Users}
          ADD COLUMN session_kind ENUM('{SessionKinds.AppPasswordSql}','{SessionKinds.OAuthSql}') NOT NULL DEFAULT '{SessionKinds.AppPasswordSql}',
          ADD COLUMN auth_issuer VARCHAR(512) {Ascii} NULL,
          ADD COLUMN token_endpoint VARCHAR(512) {Ascii} NULL,
          ADD COLUMN revocation_endpoint VARCHAR(512) {Ascii} NULL,
          ADD COLUMN token_scope VARCHAR(1024) {Ascii} NULL,
          ADD COLUMN dpop_key TEXT NULL
        """,
        $"""
        CREATE TABLE IF NOT EXISTS {t.OAuthRequests} (
          state VARCHAR(64) {Ascii} NOT NULL,
          user_id INT UNSIGNED NOT NULL,
          did VARCHAR(255) {Ascii} NOT NULL,
          handle VARCHAR(253) {Ascii} NOT NULL DEFAULT '',
          pds_url VARCHAR(512) {Ascii} NOT NULL,
          auth_issuer VARCHAR(512) {Ascii} NOT NULL,
          secrets TEXT NOT NULL,
          created_at BIGINT UNSIGNED NOT NULL,
          expires_at BIGINT UNSIGNED NOT NULL,
          PRIMARY KEY (state),
          KEY expires_at (expires_at)
        ) {InnoDbUtf8Mb4}
        """,
    ];
}
