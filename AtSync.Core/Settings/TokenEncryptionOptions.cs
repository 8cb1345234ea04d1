using Microsoft.Extensions.Configuration;

namespace AtSync.Core.Settings;

/// <summary>Keys for the users' PDS tokens at rest (format in docs/design.md).</summary>
public sealed class TokenEncryptionOptions
{
    /// <summary>Secret: a JSON map of key version → base64 of 32 bytes.</summary>
    [ConfigurationKeyName(SettingNames.TokenEncryptionKeys)]
    public string Keys { get; set; } = "";

    [ConfigurationKeyName(SettingNames.TokenEncryptionKeyVersion)]
    public string CurrentVersion { get; set; } = "v1";

    public override string ToString() => $"TokenEncryptionOptions {{ CurrentVersion = {CurrentVersion} }}";
}
