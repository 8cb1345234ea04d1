using Microsoft.Extensions.Configuration;

namespace AtSync.Core.Settings;

/// <summary>
/// How the QueueWorker signs in as the forum's own account (<c>FORUM_DID</c> on <c>FORUM_PDS_URL</c>): an app password,
/// given as a secret (<c>FORUM_APP_PASSWORD</c> or <c>FORUM_APP_PASSWORD_FILE</c>), exchanged for a session with
/// <c>com.atproto.server.createSession</c>; the session is kept in <c>atproto_users</c> and refreshed like members'.
/// </summary>
public sealed class ForumAccountOptions
{
    /// <summary>The identifier to sign in with; empty means <c>FORUM_DID</c>.</summary>
    [ConfigurationKeyName(SettingNames.ForumHandle)]
    public string Handle { get; set; } = "";

    /// <summary>Secret. Never logged; <see cref="ToString"/> leaves it out.</summary>
    [ConfigurationKeyName(SettingNames.ForumAppPassword)]
    public string AppPassword { get; set; } = "";

    public override string ToString() => $"ForumAccountOptions {{ Handle = {Handle}, AppPassword = [redacted] }}";
}
