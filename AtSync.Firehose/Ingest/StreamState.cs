namespace AtSync.Firehose.Ingest;

/// <summary>
/// What health and metrics need to know about one stream ("firehose" or "labels"): whether its socket is connected,
/// when the last message arrived, when its cursor was last saved. Written by the source and the processor, read by checks.
/// </summary>
public sealed class StreamState(string name)
{
    private long _lastMessageTicks;
    private long _cursorSavedTicks;
    private long _connectedSinceTicks;
    private long _waitingSinceTicks;
    private int _connected;
    private string? _problem;

    public string Name { get; } = name;

    public bool IsConnected => Volatile.Read(ref _connected) == 1;

    /// <summary>Why no socket is expected (a capture-file replay, a disabled stream); null when one is.</summary>
    public string? NoSocketReason { get; set; }

    public bool IsReplay => NoSocketReason is not null;

    public DateTimeOffset? ConnectedSince => Read(ref _connectedSinceTicks);

    public DateTimeOffset? LastMessageAt => Read(ref _lastMessageTicks);

    public DateTimeOffset? CursorSavedAt => Read(ref _cursorSavedTicks);

    /// <summary>Since when frames have been accepted but not committed (null: nothing waiting).</summary>
    public DateTimeOffset? WaitingSince => Read(ref _waitingSinceTicks);

    /// <summary>A short description of the last connection problem (no URLs with secrets, no exception text).</summary>
    public string? Problem => Volatile.Read(ref _problem);

    /// <summary>True once the stream's cursor row existed at start or was saved: not the very first run any more.</summary>
    public bool HasCursor => CursorSavedAt is not null;

    public void MarkConnected(DateTimeOffset now)
    {
        Interlocked.Exchange(ref _connectedSinceTicks, now.UtcTicks);
        Volatile.Write(ref _connected, 1);
        Volatile.Write(ref _problem, null);
    }

    public void MarkDisconnected(string? problem)
    {
        Volatile.Write(ref _connected, 0);
        Interlocked.Exchange(ref _connectedSinceTicks, 0);
        if (problem is not null) Volatile.Write(ref _problem, problem);
    }

    public void MarkMessage(DateTimeOffset now) => Interlocked.Exchange(ref _lastMessageTicks, now.UtcTicks);

    public void MarkCursorSaved(DateTimeOffset at) => Interlocked.Exchange(ref _cursorSavedTicks, at.UtcTicks);

    /// <summary>The first frame of a batch was accepted (only the first call of a batch counts).</summary>
    public void MarkWaiting(DateTimeOffset at) => Interlocked.CompareExchange(ref _waitingSinceTicks, at.UtcTicks, 0);

    /// <summary>The batch committed: nothing waits.</summary>
    public void ClearWaiting() => Interlocked.Exchange(ref _waitingSinceTicks, 0);

    public void ReportProblem(string problem) => Volatile.Write(ref _problem, problem);

    private static DateTimeOffset? Read(ref long ticks)
    {
        var value = Interlocked.Read(ref ticks);
        return value == 0 ? null : new DateTimeOffset(value, TimeSpan.Zero);
    }
}
