using Microsoft.Extensions.Configuration;

namespace AtSync.Core.Settings;

/// <summary>The forum's own AT identity: its DID, its PDS, and the token for writes to that PDS.</summary>
public sealed class ForumOptions
{
    [ConfigurationKeyName(SettingNames.ForumDid)]
    public string Did { get; set; } = "";

    [ConfigurationKeyName(SettingNames.ForumPdsUrl)]
    public string PdsUrl { get; set; } = "";

    /// <summary>Secret. Never logged; <see cref="ToString"/> leaves it out.</summary>
    [ConfigurationKeyName(SettingNames.ForumPdsAccessToken)]
    public string PdsAccessToken { get; set; } = "";

    public override string ToString() => $"ForumOptions {{ Did = {Did}, PdsUrl = {PdsUrl} }}";
}
