using System.Globalization;

namespace AtSync.AtProto.Syntax;

/// <summary>
/// The AT Protocol datetime format: RFC 3339 ∩ ISO 8601 — <c>YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)</c>,
/// uppercase <c>T</c> and <c>Z</c>, 4-digit year, timezone required, <c>-00:00</c> refused.
/// </summary>
public static class AtDateTime
{
    public const int MaxLength = 64;

    public static bool IsValid(ReadOnlySpan<char> s) => TryParseParts(s, out _);

    /// <summary>Parses a valid datetime into a <see cref="DateTimeOffset"/> (fractions beyond 100 ns truncated).
    /// False when invalid or outside what <see cref="DateTimeOffset"/> can hold (e.g. year 0).</summary>
    public static bool TryParse(ReadOnlySpan<char> s, out DateTimeOffset value)
    {
        value = default;
        if (!TryParseParts(s, out var p) || p.Year < 1)
        {
            return false;
        }
        try
        {
            var dt = new DateTime(p.Year, p.Month, p.Day, p.Hour, p.Minute, p.Second, DateTimeKind.Unspecified).AddTicks(p.FractionTicks);
            value = new DateTimeOffset(dt, p.Offset);
            return true;
        }
        catch (ArgumentOutOfRangeException)
        {
            return false;
        }
    }

    public static DateTimeOffset Parse(string s) =>
        TryParse(s, out var v) ? v : throw new AtSyntaxException("datetime", s);

    /// <summary>The preferred form: UTC, millisecond precision, <c>Z</c>.</summary>
    public static string Format(DateTimeOffset value) =>
        value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private readonly record struct Parts(int Year, int Month, int Day, int Hour, int Minute, int Second, long FractionTicks, TimeSpan Offset);

    private static bool TryParseParts(ReadOnlySpan<char> s, out Parts parts)
    {
        parts = default;
        // Shortest: 1985-04-12T23:20:50Z (20 chars).
        if (s.Length < 20 || s.Length > MaxLength
            || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':'
            || !Digits(s[..4], out var year) || !Digits(s.Slice(5, 2), out var month) || !Digits(s.Slice(8, 2), out var day)
            || !Digits(s.Slice(11, 2), out var hour) || !Digits(s.Slice(14, 2), out var minute) || !Digits(s.Slice(17, 2), out var second))
        {
            return false;
        }
        if (month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year == 0 ? 2000 : year, month)
            || hour > 23 || minute > 59 || second > 59)
        {
            return false;
        }
        var i = 19;
        long fractionTicks = 0;
        if (s[i] == '.')
        {
            var start = ++i;
            while (i < s.Length && char.IsAsciiDigit(s[i]))
            {
                if (i - start < 7)
                {
                    fractionTicks = fractionTicks * 10 + (s[i] - '0');
                }
                i++;
            }
            var n = i - start;
            if (n == 0 || n > 20)
            {
                return false;
            }
            for (var k = n; k < 7; k++)
            {
                fractionTicks *= 10;
            }
        }
        var zone = s[i..];
        TimeSpan offset;
        if (zone is "Z")
        {
            offset = TimeSpan.Zero;
        }
        else if (zone.Length == 6 && zone[0] is '+' or '-' && zone[3] == ':'
            && Digits(zone.Slice(1, 2), out var oh) && Digits(zone.Slice(4, 2), out var om) && oh <= 23 && om <= 59)
        {
            if (zone[0] == '-' && oh == 0 && om == 0)
            {
                return false; // RFC 3339 "unknown local offset"
            }
            offset = new TimeSpan(oh, om, 0) * (zone[0] == '-' ? -1 : 1);
        }
        else
        {
            return false;
        }
        parts = new Parts(year, month, day, hour, minute, second, fractionTicks, offset);
        return true;
    }

    private static bool Digits(ReadOnlySpan<char> s, out int value)
    {
        value = 0;
        foreach (var c in s)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
            value = value * 10 + (c - '0');
        }
        return true;
    }
}
