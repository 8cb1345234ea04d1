using System.Globalization;

namespace AtSync.Firehose.Apply;

/// <summary>
/// Times written to phpBB come from the events (never the wall clock), so applying the same events gives the same rows.
/// </summary>
public static class EventTimes
{
    /// <summary>The post's time: the record's <c>createdAt</c> when it parses and is not after the event, else the event's time.</summary>
    public static long PostTime(string? createdAt, long eventTime)
    {
        if (createdAt is not null
            && DateTimeOffset.TryParse(createdAt, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var declared))
        {
            var seconds = declared.ToUnixTimeSeconds();
            if (seconds > 0 && seconds <= eventTime) return seconds;
        }
        return eventTime;
    }

    public static long Unix(DateTimeOffset time) => Math.Max(0, time.ToUnixTimeSeconds());
}
