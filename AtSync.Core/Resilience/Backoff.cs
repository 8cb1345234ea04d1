namespace AtSync.Core.Resilience;

/// <summary>
/// The one exponential backoff of AtSync's retries: the base delay starts at <c>initial</c> and doubles up to
/// <c>max</c>; with a jitter of <c>j</c> each wait is the base delay scaled by a random factor in [1 − j, 1] (0.5 is
/// "equal jitter", so many clients do not retry in step; 0 waits exactly the base delay). <see cref="Reset"/> after a
/// success. The waiting itself is <see cref="TransientRetry"/>'s, on a <see cref="TimeProvider"/>.
/// </summary>
public sealed class Backoff
{
    private readonly TimeSpan _initial;
    private readonly TimeSpan _max;
    private readonly double _jitter;
    private readonly Random _random;
    private TimeSpan _current;

    public Backoff(TimeSpan initial, TimeSpan max, double jitter = 0, Random? random = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(initial, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(max, initial);
        ArgumentOutOfRangeException.ThrowIfNegative(jitter);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(jitter, 1);
        _initial = initial;
        _max = max;
        _jitter = jitter;
        _random = random ?? Random.Shared;
        _current = initial;
    }

    /// <summary>How many delays were handed out since the last <see cref="Reset"/>.</summary>
    public int Attempt { get; private set; }

    /// <summary>The next base delay (before jitter), for logs and tests.</summary>
    public TimeSpan CurrentBase => _current;

    /// <summary>The delay to wait before the next attempt; advances the base delay.</summary>
    public TimeSpan Next()
    {
        var baseDelay = _current;
        _current = TimeSpan.FromTicks(Math.Min(_current.Ticks * 2, _max.Ticks));
        Attempt++;
        if (_jitter == 0) return baseDelay;
        var factor = (1 - _jitter) + (_random.NextDouble() * _jitter);
        return TimeSpan.FromTicks((long)(baseDelay.Ticks * factor));
    }

    public void Reset()
    {
        _current = _initial;
        Attempt = 0;
    }
}
