using System.ComponentModel.DataAnnotations;

namespace AtSync.QueueWorker;

/// <summary>Tuning of the queue worker (configuration section <c>QueueWorker</c>); every value has a working default.</summary>
public sealed class QueueWorkerOptions
{
    public const string Section = "QueueWorker";

    /// <summary>Rows claimed per batch.</summary>
    [Range(1, 1000)]
    public int BatchSize { get; set; } = 100;

    /// <summary>PDS writes in flight at once per worker.</summary>
    [Range(1, 256)]
    public int MaxConcurrentWrites { get; set; } = 32;

    /// <summary>How long the loop sleeps when the queue has nothing due.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>A claimed row returns to <c>pending</c> when its worker has not finished it within this time.</summary>
    [Range(typeof(TimeSpan), "00:00:05", "01:00:00")]
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>HTTP timeout of one PDS call.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")]
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Access tokens expiring within this time are refreshed before use.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan RefreshAhead { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>After shutdown is requested, in-flight writes get this long to finish before their rows are released.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:25")]
    public TimeSpan ShutdownGrace { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Dead letters older than this are purged.</summary>
    [Range(typeof(TimeSpan), "1.00:00:00", "3650.00:00:00")]
    public TimeSpan DeadLetterRetention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>How often the pending/processing/dead-letter gauges are re-counted and dead letters purged.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan HousekeepingInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>A reply whose topic's first post is still queued is looked at again after this delay (no attempt used).</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan DependencyWait { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How often the forum account compares phpBB's forums with the published boards (the triggers do the rest).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan BoardReconcileInterval { get; set; } = TimeSpan.FromMinutes(5);
}
