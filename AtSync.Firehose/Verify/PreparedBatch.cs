using AtSync.Firehose.Events;

namespace AtSync.Firehose.Verify;

/// <summary>
/// What the verify stage hands to the apply stage, and all it needs: the events to apply (commits whose signature
/// failed are taken out), the signature verdicts, the resolved handles of authors who may become phpBB users, and the
/// counts of what was set aside (recorded after the batch commits, since the batch's cursor covers them too).
/// </summary>
public sealed record PreparedBatch(
    IReadOnlyList<StreamEvent> Events,
    IReadOnlyDictionary<long, SignatureVerdict> Verdicts,
    IReadOnlyDictionary<string, string?> Handles,
    BatchOutcome SetAside);
