namespace AtSync.QueueWorker.Delivery;

/// <summary>
/// When a failed row is tried again: 15 s, 30 s, 60 s, 5 min, then 15 min for every later attempt, each stretched or
/// shrunk by up to ±<see cref="JitterFraction"/> so that rows failing together do not return together.
/// </summary>
public sealed class RetrySchedule
{
    public static readonly IReadOnlyList<TimeSpan> BaseDelays =
    [
        TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(60), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(15),
    ];

    public const double JitterFraction = 0.1;

    private readonly Func<double> _random;

    /// <param name="random">Uniform in [0, 1); <see cref="Random.Shared"/> when null.</param>
    public RetrySchedule(Func<double>? random = null)
    {
        _random = random ?? Random.Shared.NextDouble;
    }

    /// <summary>The base delay after the <paramref name="attempt"/>-th failed attempt (1-based).</summary>
    public static TimeSpan BaseDelayAfter(int attempt) => BaseDelays[Math.Clamp(attempt - 1, 0, BaseDelays.Count - 1)];

    public TimeSpan DelayAfter(int attempt)
    {
        var factor = 1 + ((_random() * 2) - 1) * JitterFraction;
        return TimeSpan.FromTicks((long)(BaseDelayAfter(attempt).Ticks * factor));
    }
}
