using System.Text.RegularExpressions;

namespace AtSync.Core.Settings;

/// <summary>
/// Checks of single setting values. Each returns null when the value is fine, or the reason it is not — a reason
/// that never repeats the value, since some settings are secrets.
/// </summary>
public static partial class SettingChecks
{
    public static string? Required(string? value) =>
        string.IsNullOrWhiteSpace(value) ? "is missing" : null;

    /// <summary>A password given as a setting (the forum account's app password): present, one line, at most 256 characters.</summary>
    public static string? Password(string? value)
    {
        if (string.IsNullOrWhiteSpace(value)) return "is missing";
        if (value.Length > 256) return "is longer than 256 characters";
        return value.Any(char.IsControl) ? "contains control characters (one line expected)" : null;
    }

    public static string? Handle(string? value) =>
        string.IsNullOrWhiteSpace(value) ? "is missing" : AtSync.AtProto.Syntax.Handle.IsValid(value) ? null : "is not a handle (expected e.g. forum.example.com)";

    public static string? Did(string? value)
    {
        if (string.IsNullOrWhiteSpace(value)) return "is missing";
        return DidPattern().IsMatch(value) && value.Length <= 2048
            ? null
            : "is not a DID (expected did:plc:… or did:web:…)";
    }

    public static string? HttpUrl(string? value) => Url(value, "http", "https");

    public static string? WebSocketUrl(string? value) => Url(value, "ws", "wss");

    public static string? TablePrefix(string? value)
    {
        if (string.IsNullOrEmpty(value)) return "is missing";
        return TablePrefixPattern().IsMatch(value) ? null : "must be letters, digits and underscores, at most 24 characters";
    }

    /// <summary>A level's name only: <c>Enum.TryParse</c> alone also takes numbers, and <c>LOG_LEVEL=42</c> silenced every log.</summary>
    public static string? LogLevelName(string? value) =>
        string.IsNullOrWhiteSpace(value)
        || (char.IsAsciiLetter(value.Trim()[0]) && Enum.TryParse<Microsoft.Extensions.Logging.LogLevel>(value.Trim(), ignoreCase: true, out var level)
            && Enum.IsDefined(level))
            ? null
            : "is not a log level (Trace, Debug, Information, Warning, Error, Critical or None)";

    private static string? Url(string? value, params string[] schemes)
    {
        if (string.IsNullOrWhiteSpace(value)) return "is missing";
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || !schemes.Contains(uri.Scheme, StringComparer.Ordinal))
        {
            return $"is not an absolute {string.Join(" or ", schemes)} URL";
        }
        return string.IsNullOrEmpty(uri.Host) ? "has no host" : null;
    }

    // did:method:identifier per the atproto DID syntax (method lowercase, identifier of allowed characters, no trailing ':' or '%').
    [GeneratedRegex("^did:[a-z]+:[a-zA-Z0-9._:%-]*[a-zA-Z0-9._-]$")]
    private static partial Regex DidPattern();

    [GeneratedRegex("^[A-Za-z0-9_]{1,24}$")]
    private static partial Regex TablePrefixPattern();
}
