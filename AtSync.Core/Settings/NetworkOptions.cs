using Microsoft.Extensions.Configuration;

namespace AtSync.Core.Settings;

/// <summary>Where the Firehose reads the network from: the relay, the labeler, and the PLC directory.</summary>
public sealed class NetworkOptions
{
    [ConfigurationKeyName(SettingNames.RelayUrl)]
    public string RelayUrl { get; set; } = SettingNames.DefaultRelayUrl;

    /// <summary>Defaults to <see cref="ForumOptions.Did"/>.</summary>
    [ConfigurationKeyName(SettingNames.LabelerDid)]
    public string LabelerDid { get; set; } = "";

    /// <summary>The labeler's service URL (http(s) or ws(s)); defaults to <see cref="ForumOptions.PdsUrl"/>.</summary>
    [ConfigurationKeyName(SettingNames.LabelerUrl)]
    public string LabelerUrl { get; set; } = "";

    [ConfigurationKeyName(SettingNames.PlcDirectoryUrl)]
    public string PlcDirectoryUrl { get; set; } = SettingNames.DefaultPlcDirectoryUrl;
}
