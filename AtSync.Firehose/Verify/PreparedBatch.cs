using AtSync.Firehose.Events;
using AtSync.Firehose.Repos;

namespace AtSync.Firehose.Verify;

/// <summary>
/// What the verify stage hands to the apply stage, and all it needs: the events to apply (commits refused, held or
/// unverifiable are taken out, labels whose signature failed too), the signature verdicts, the verified handles (null:
/// the DID's handle does not resolve back, so its phpBB name is derived from the DID) of authors who may become phpBB
/// users and of linked users whose <c>#identity</c> was re-checked (a re-checked DID missing here could not be checked
/// now), the counts of what was set aside (recorded after the batch commits, since the batch's cursor covers them too),
/// and the repository states and held frames to write in the same transaction (<see cref="RepoWrites"/>).
/// </summary>
public sealed record PreparedBatch(
    IReadOnlyList<StreamEvent> Events,
    IReadOnlyDictionary<long, SignatureVerdict> Verdicts,
    IReadOnlyDictionary<string, string?> Handles,
    BatchOutcome SetAside,
    RepoWrites Repos);
