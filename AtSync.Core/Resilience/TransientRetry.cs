namespace AtSync.Core.Resilience;

/// <summary>
/// Runs an operation again after failures a classifier calls transient (e.g. <see cref="Storage.MySqlErrors.IsTransient"/>),
/// waiting <see cref="Backoff.Next"/> on a <see cref="TimeProvider"/> between attempts; any other exception, and
/// cancellation, propagate.
/// </summary>
public static class TransientRetry
{
    /// <param name="onRetry">Called before each wait with the failure and the delay (for a log line).</param>
    /// <param name="maxAttempts">Attempts in all; the last failure propagates. Unbounded by default.</param>
    public static async Task<T> RunAsync<T>(
        Func<CancellationToken, Task<T>> operation,
        Func<Exception, bool> isTransient,
        Backoff backoff,
        TimeProvider time,
        Action<Exception, TimeSpan>? onRetry,
        CancellationToken cancellationToken,
        int maxAttempts = int.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(operation);
        ArgumentNullException.ThrowIfNull(isTransient);
        ArgumentNullException.ThrowIfNull(backoff);
        ArgumentNullException.ThrowIfNull(time);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await operation(cancellationToken);
            }
            catch (Exception ex) when (attempt < maxAttempts && isTransient(ex) && !cancellationToken.IsCancellationRequested)
            {
                var delay = backoff.Next();
                onRetry?.Invoke(ex, delay);
                await Task.Delay(delay, time, cancellationToken);
            }
        }
    }
}
