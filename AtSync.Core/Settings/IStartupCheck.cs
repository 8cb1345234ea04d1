namespace AtSync.Core.Settings;

/// <summary>
/// A check <see cref="ServiceRunner"/> runs after the settings are validated and before the host starts, for a setting
/// that only a peer can judge (the forum's app password, which only its PDS can accept or refuse). A failure stops the
/// service like a malformed setting: exit code 2 and one line naming the setting, never its value. A check that
/// cannot reach its peer returns null and lets the service start (it retries by itself).
/// </summary>
public interface IStartupCheck
{
    /// <summary>Null when the service may start; otherwise "SETTING reason".</summary>
    Task<string?> CheckAsync(CancellationToken cancellationToken);
}
