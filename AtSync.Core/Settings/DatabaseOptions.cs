using Microsoft.Extensions.Configuration;

namespace AtSync.Core.Settings;

/// <summary>The phpBB database: the connection string the AppHost injects and phpBB's table prefix.</summary>
public sealed class DatabaseOptions
{
    /// <summary>Secret (holds a password). Bound from <c>ConnectionStrings:phpbb</c>.</summary>
    public string ConnectionString { get; set; } = "";

    [ConfigurationKeyName(SettingNames.TablePrefix)]
    public string TablePrefix { get; set; } = SettingNames.DefaultTablePrefix;

    public override string ToString() => $"DatabaseOptions {{ TablePrefix = {TablePrefix} }}";
}
