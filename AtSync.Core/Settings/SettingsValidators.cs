using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace AtSync.Core.Settings;

/// <summary>Collects "SETTING reason" failures; one message per setting, never a value.</summary>
internal sealed class FailureList
{
    private readonly List<string> _failures = [];

    public void Check(string setting, string? reason)
    {
        if (reason is not null) _failures.Add($"{setting} {reason}");
    }

    public ValidateOptionsResult Result() =>
        _failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(_failures);
}

internal sealed class ForumOptionsValidator : IValidateOptions<ForumOptions>
{
    public ValidateOptionsResult Validate(string? name, ForumOptions options)
    {
        var failures = new FailureList();
        failures.Check(SettingNames.ForumDid, SettingChecks.Did(options.Did));
        failures.Check(SettingNames.ForumPdsUrl, SettingChecks.HttpUrl(options.PdsUrl));
        return failures.Result();
    }
}

internal sealed class ForumAccountOptionsValidator : IValidateOptions<ForumAccountOptions>
{
    public ValidateOptionsResult Validate(string? name, ForumAccountOptions options)
    {
        var failures = new FailureList();
        failures.Check(SettingNames.ForumAppPassword, SettingChecks.Password(options.AppPassword));
        if (!string.IsNullOrEmpty(options.Handle)) failures.Check(SettingNames.ForumHandle, SettingChecks.Handle(options.Handle));
        return failures.Result();
    }
}

internal sealed class TokenEncryptionOptionsValidator : IValidateOptions<TokenEncryptionOptions>
{
    public ValidateOptionsResult Validate(string? name, TokenEncryptionOptions options)
    {
        var failures = new FailureList();
        if (!TokenKeysFormat.TryParse(options.Keys, out var keys, out var reason))
        {
            failures.Check(SettingNames.TokenEncryptionKeys, reason);
        }
        else if (string.IsNullOrWhiteSpace(options.CurrentVersion))
        {
            failures.Check(SettingNames.TokenEncryptionKeyVersion, "is missing");
        }
        else if (!keys.ContainsKey(options.CurrentVersion))
        {
            failures.Check(SettingNames.TokenEncryptionKeyVersion, $"names a version that {SettingNames.TokenEncryptionKeys} does not hold");
        }
        return failures.Result();
    }
}

internal sealed class IdentityOptionsValidator : IValidateOptions<IdentityOptions>
{
    public ValidateOptionsResult Validate(string? name, IdentityOptions options)
    {
        var problems = options.Problems().ToList();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}

internal sealed class NetworkOptionsValidator : IValidateOptions<NetworkOptions>
{
    public ValidateOptionsResult Validate(string? name, NetworkOptions options)
    {
        var failures = new FailureList();
        failures.Check(SettingNames.RelayUrl, SettingChecks.WebSocketUrl(options.RelayUrl));
        failures.Check(SettingNames.LabelerDid, SettingChecks.Did(options.LabelerDid));
        var labelerUrl = SettingChecks.HttpUrl(options.LabelerUrl) is null ? null : SettingChecks.WebSocketUrl(options.LabelerUrl);
        failures.Check(SettingNames.LabelerUrl, labelerUrl is null ? null : "is not an absolute http, https, ws or wss URL");
        failures.Check(SettingNames.PlcDirectoryUrl, SettingChecks.HttpUrl(options.PlcDirectoryUrl));
        return failures.Result();
    }
}

/// <summary>Fills the labeler settings from the forum's when they are not given (docs/design.md: "default to the forum's").</summary>
/// <remarks>Reads the forum's raw settings, not the validated <see cref="ForumOptions"/>: a bad forum setting is reported
/// by its own validator, and must not hide the network settings' own failures.</remarks>
internal sealed class NetworkOptionsDefaults(IConfiguration configuration) : IPostConfigureOptions<NetworkOptions>
{
    public void PostConfigure(string? name, NetworkOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.LabelerDid)) options.LabelerDid = configuration[SettingNames.ForumDid] ?? "";
        if (string.IsNullOrWhiteSpace(options.LabelerUrl)) options.LabelerUrl = configuration[SettingNames.ForumPdsUrl] ?? "";
    }
}

internal sealed class DatabaseOptionsValidator : IValidateOptions<DatabaseOptions>
{
    public ValidateOptionsResult Validate(string? name, DatabaseOptions options)
    {
        var failures = new FailureList();
        failures.Check(SettingNames.ConnectionString, ConnectionStringReason(options.ConnectionString));
        failures.Check(SettingNames.TablePrefix, SettingChecks.TablePrefix(options.TablePrefix));
        return failures.Result();
    }

    private static string? ConnectionStringReason(string? value)
    {
        if (string.IsNullOrWhiteSpace(value)) return "is missing";
        try
        {
            var builder = new MySqlConnectionStringBuilder(value);
            return string.IsNullOrEmpty(builder.Server) ? "names no Server" : null;
        }
        catch (ArgumentException)
        {
            // The exception's message may quote the string; it holds a password, so it is not passed on.
            return "is not a valid MySQL connection string";
        }
    }
}
