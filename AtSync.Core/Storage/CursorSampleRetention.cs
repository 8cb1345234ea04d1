namespace AtSync.Core.Storage;

/// <summary>
/// The cursor samples' granularity and how long they are kept (migration 700): one per stream and minute, 8 days, so
/// <c>atsync cursor rewind</c> reaches a week back by time alone (about 11,500 rows per stream).
/// </summary>
public static class CursorSampleRetention
{
    public const int Days = 8;
    public const long SampleSeconds = 60;

    /// <summary>The sample slot <paramref name="unixSeconds"/> falls in (the minute's first second).</summary>
    public static long Slot(long unixSeconds) => unixSeconds - (unixSeconds % SampleSeconds);

    /// <summary>Samples before this are removed.</summary>
    public static long Cutoff(long unixSeconds) => unixSeconds - Days * 86_400L;
}
