namespace AtSync.Firehose.Ingest;

/// <summary>
/// Exponential backoff with jitter for reconnecting: the base delay starts at <c>initial</c> and doubles up to
/// <c>max</c>; each wait is the base delay scaled by a random factor in [0.5, 1.0] ("equal jitter"), so many clients
/// do not reconnect in step. <see cref="Reset"/> after a connection proved healthy.
/// </summary>
public sealed class ReconnectBackoff
{
    private readonly TimeSpan _initial;
    private readonly TimeSpan _max;
    private readonly Random _random;
    private TimeSpan _current;

    public ReconnectBackoff(TimeSpan initial, TimeSpan max, Random? random = null)
    {
        _initial = initial;
        _max = max;
        _random = random ?? Random.Shared;
        _current = initial;
    }

    public int Attempt { get; private set; }

    /// <summary>The delay to wait before the next attempt; advances the base delay.</summary>
    public TimeSpan Next()
    {
        var baseDelay = _current;
        _current = TimeSpan.FromTicks(Math.Min(_current.Ticks * 2, _max.Ticks));
        Attempt++;
        var factor = 0.5 + (_random.NextDouble() * 0.5);
        return TimeSpan.FromTicks((long)(baseDelay.Ticks * factor));
    }

    /// <summary>The next base delay (before jitter), for logs and tests.</summary>
    public TimeSpan CurrentBase => _current;

    public void Reset()
    {
        _current = _initial;
        Attempt = 0;
    }
}
