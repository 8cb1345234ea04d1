using AtSync.Firehose.Events;

namespace AtSync.Firehose.Verify;

/// <summary>
/// A stream's verify stage: outside any transaction, bounded in time, it decides what of a batch may be applied and
/// returns it with what the apply stage needs (<see cref="PreparedBatch"/>). Relay commits carry their signed commit
/// (<see cref="BatchVerifier"/>); Jetstream events carry nothing signed, so each forum record is proven against its
/// author's repository (<c>Verify/Jetstream/</c>).
/// </summary>
public interface IBatchVerifier
{
    /// <param name="stream">The stream's name (its cursor row): <c>firehose</c>, <c>jetstream</c>, <c>labels</c>.</param>
    Task<PreparedBatch> PrepareAsync(string stream, IReadOnlyList<StreamEvent> events, CancellationToken ct);
}
