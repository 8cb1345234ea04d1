namespace AtSync.AtProto.Syntax;

/// <summary>
/// Makes TIDs from a <see cref="TimeProvider"/>: strictly increasing for this instance even when the clock stands
/// still or steps back (each new TID is at least one microsecond after the previous one). Thread-safe.
/// </summary>
public sealed class TidGenerator
{
    private readonly TimeProvider _time;
    private readonly int _clockId;
    private readonly Lock _lock = new();
    private long _lastMicros = -1;

    /// <param name="clockId">0–1023; random when null.</param>
    public TidGenerator(TimeProvider timeProvider, int? clockId = null)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        if (clockId is { } id)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(id, nameof(clockId));
            ArgumentOutOfRangeException.ThrowIfGreaterThan(id, 1023, nameof(clockId));
        }
        _time = timeProvider;
        _clockId = clockId ?? Random.Shared.Next(1024);
    }

    public int ClockId => _clockId;

    public Tid Next()
    {
        var now = (_time.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks / 10;
        lock (_lock)
        {
            var micros = Math.Max(now, _lastMicros + 1);
            _lastMicros = micros;
            return Tid.FromParts(micros, _clockId);
        }
    }
}
