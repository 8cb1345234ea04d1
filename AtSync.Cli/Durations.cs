using System.Globalization;
using System.Text.RegularExpressions;

namespace AtSync.Cli;

/// <summary>Durations on the command line: <c>90s</c>, <c>15m</c>, <c>2h</c>, <c>7d</c>, or a TimeSpan (<c>00:15:00</c>).</summary>
public static partial class Durations
{
    public static bool TryParse(string? text, out TimeSpan duration)
    {
        duration = default;
        if (string.IsNullOrWhiteSpace(text)) return false;
        var match = Short().Match(text.Trim());
        if (match.Success)
        {
            var value = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
            duration = match.Groups[2].Value switch
            {
                "ms" => TimeSpan.FromMilliseconds(value),
                "s" => TimeSpan.FromSeconds(value),
                "m" => TimeSpan.FromMinutes(value),
                "h" => TimeSpan.FromHours(value),
                _ => TimeSpan.FromDays(value),
            };
            return duration > TimeSpan.Zero;
        }
        return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out duration) && duration > TimeSpan.Zero;
    }

    public static string Format(TimeSpan? span) => span switch
    {
        null => "-",
        { TotalSeconds: < 120 } s => $"{s.TotalSeconds:0}s",
        { TotalMinutes: < 120 } s => $"{s.TotalMinutes:0}m",
        { TotalHours: < 48 } s => $"{s.TotalHours:0.#}h",
        var s => $"{s.Value.TotalDays:0.#}d",
    };

    [GeneratedRegex(@"^(\d+(?:\.\d+)?)(ms|s|m|h|d)$")]
    private static partial Regex Short();
}
