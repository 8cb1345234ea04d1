using Microsoft.Extensions.Configuration;

namespace AtSync.Core.Settings;

/// <summary>The forum's own AT identity: its DID and its PDS (the account's credentials: <see cref="ForumAccountOptions"/>).</summary>
public sealed class ForumOptions
{
    [ConfigurationKeyName(SettingNames.ForumDid)]
    public string Did { get; set; } = "";

    [ConfigurationKeyName(SettingNames.ForumPdsUrl)]
    public string PdsUrl { get; set; } = "";

    public override string ToString() => $"ForumOptions {{ Did = {Did}, PdsUrl = {PdsUrl} }}";
}
