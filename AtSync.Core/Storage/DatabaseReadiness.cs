namespace AtSync.Core.Storage;

/// <summary>
/// Signals that the schema is current. Workers await <see cref="WaitAsync"/> before touching AtSync's tables;
/// the "schema" health check reports unhealthy until then.
/// </summary>
public sealed class DatabaseReadiness
{
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool IsReady => _ready.Task.IsCompleted;

    public void MarkReady() => _ready.TrySetResult();

    public Task WaitAsync(CancellationToken cancellationToken) => _ready.Task.WaitAsync(cancellationToken);
}
