namespace AtSync.Core.Storage;

/// <summary>
/// Signals that the schema is current. Workers await <see cref="WaitAsync"/> before touching AtSync's tables;
/// the "schema" health check reports unhealthy until then.
/// </summary>
public sealed class DatabaseReadiness
{
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private volatile string? _blocker;

    public bool IsReady => _ready.Task.IsCompleted;

    /// <summary>Why the schema cannot be applied now, when the operator must change something (one line), else null.</summary>
    public string? Blocker => _blocker;

    public void MarkReady()
    {
        _blocker = null;
        _ready.TrySetResult();
    }

    /// <summary>Records why the schema cannot be applied; returns whether that differs from what was recorded before.</summary>
    public bool Block(string? blocker)
    {
        var changed = _blocker != blocker;
        _blocker = blocker;
        return changed;
    }

    public Task WaitAsync(CancellationToken cancellationToken) => _ready.Task.WaitAsync(cancellationToken);
}
