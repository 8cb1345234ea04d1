using AtSync.Firehose.Events;
using AtSync.Firehose.Repos;

namespace AtSync.Firehose.Verify;

/// <summary>
/// What the verify stage hands to the apply stage, and all it needs: the events to apply (commits refused, held or
/// unverifiable are taken out), the signature verdicts, the resolved handles of authors who may become phpBB users,
/// the counts of what was set aside (recorded after the batch commits, since the batch's cursor covers them too), and
/// the repository states and held frames to write in the same transaction (<see cref="RepoWrites"/>).
/// </summary>
public sealed record PreparedBatch(
    IReadOnlyList<StreamEvent> Events,
    IReadOnlyDictionary<long, SignatureVerdict> Verdicts,
    IReadOnlyDictionary<string, string?> Handles,
    BatchOutcome SetAside,
    RepoWrites Repos);
