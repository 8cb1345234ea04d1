using System.Globalization;
using System.Net.Http.Headers;

namespace AtSync.AtProto.Xrpc;

/// <summary>
/// Rate-limit state a server reported with a response: the <c>RateLimit-*</c> headers and <c>Retry-After</c>.
/// Every member is null when the header was absent or malformed.
/// </summary>
public sealed record RateLimitInfo
{
    /// <summary><c>RateLimit-Limit</c>: requests allowed in the window.</summary>
    public long? Limit { get; init; }

    /// <summary><c>RateLimit-Remaining</c>: requests left in the window.</summary>
    public long? Remaining { get; init; }

    /// <summary><c>RateLimit-Reset</c> (unix seconds): when the window resets.</summary>
    public DateTimeOffset? Reset { get; init; }

    /// <summary><c>RateLimit-Policy</c>, verbatim (e.g. <c>100;w=300</c>).</summary>
    public string? Policy { get; init; }

    /// <summary><c>Retry-After</c> as a delay from when the response was received (never negative).</summary>
    public TimeSpan? RetryAfter { get; init; }

    /// <summary>True when at least one header was present.</summary>
    public bool HasAny => Limit is not null || Remaining is not null || Reset is not null || Policy is not null || RetryAfter is not null;

    /// <summary>
    /// The earliest time a caller should try again: <see cref="RetryAfter"/> when given, else
    /// <see cref="Reset"/> when nothing remains in the window, else null.
    /// </summary>
    public DateTimeOffset? RetryAt(DateTimeOffset receivedAt) =>
        RetryAfter is { } delay ? receivedAt + delay
        : Remaining is 0 && Reset is { } reset ? reset
        : null;

    /// <summary>Reads the headers of a response. <paramref name="now"/> turns an HTTP-date <c>Retry-After</c> into a delay.</summary>
    public static RateLimitInfo? FromHeaders(HttpResponseHeaders headers, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(headers);
        var info = new RateLimitInfo
        {
            Limit = ParseLong(First(headers, "RateLimit-Limit")),
            Remaining = ParseLong(First(headers, "RateLimit-Remaining")),
            Reset = ParseLong(First(headers, "RateLimit-Reset")) is { } s && s >= 0 && s <= 253402300799
                ? DateTimeOffset.FromUnixTimeSeconds(s)
                : null,
            Policy = First(headers, "RateLimit-Policy") is { Length: > 0 and <= 256 } p ? p : null,
            RetryAfter = ParseRetryAfter(headers.RetryAfter, First(headers, "Retry-After"), now),
        };
        return info.HasAny ? info : null;
    }

    private static TimeSpan? ParseRetryAfter(RetryConditionHeaderValue? typed, string? raw, DateTimeOffset now)
    {
        if (typed?.Delta is { } delta)
        {
            return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        }
        if (typed?.Date is { } date)
        {
            var d = date - now;
            return d < TimeSpan.Zero ? TimeSpan.Zero : d;
        }
        // Some servers send fractional seconds, which the typed parser refuses.
        if (raw is not null && double.TryParse(raw.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var secs)
            && double.IsFinite(secs) && secs >= 0 && secs < TimeSpan.MaxValue.TotalSeconds / 2)
        {
            return TimeSpan.FromSeconds(secs);
        }
        return null;
    }

    private static string? First(HttpResponseHeaders headers, string name) =>
        headers.TryGetValues(name, out var values) ? values.FirstOrDefault()?.Trim() : null;

    private static long? ParseLong(string? value) =>
        long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null;
}
