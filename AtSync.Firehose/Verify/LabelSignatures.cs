using AtSync.AtProto.Crypto;
using AtSync.AtProto.Identity;
using AtSync.AtProto.Syntax;
using AtSync.Core.Forum;
using AtSync.Firehose.Apply;
using AtSync.Firehose.Events;
using Microsoft.Extensions.Logging;

namespace AtSync.Firehose.Verify;

/// <summary>
/// The verify stage for labels: a label from <c>LABELER_DID</c> is kept only when its <c>sig</c> verifies over its
/// DAG-CBOR without <c>sig</c> (<see cref="LabelSignature"/>) with the <c>#atproto_label</c> key of the labeler's DID
/// document; unsigned, badly signed and uncheckable labels are set aside, counted by reason. Labels of other sources
/// are left for the apply stage, which skips them (<see cref="Outcomes.ForeignLabeler"/>) without resolving anyone.
/// A label that fails with the cached document is checked once more against a freshly fetched one (key rotation).
/// While the labeler's document is unavailable, <see cref="SigningKeysUnavailableException"/> holds the batch.
/// </summary>
public sealed partial class LabelSignatures(IDidResolver dids, FirehoseIdentity identity, ILogger<LabelSignatures> logger)
{
    public static readonly TimeSpan ResolveBudget = TimeSpan.FromSeconds(5);

    /// <summary><paramref name="events"/> with every <see cref="LabelsEvent"/> reduced to its verified labels; what was set aside is counted in <paramref name="setAside"/>.</summary>
    public async Task<IReadOnlyList<StreamEvent>> VerifyAsync(IReadOnlyList<StreamEvent> events, BatchOutcome setAside, CancellationToken cancellationToken)
    {
        if (!events.Any(e => e is LabelsEvent { Signed: not null })) return events;
        var keys = new LabelerKeys(dids, identity.LabelerDid, cancellationToken);
        var result = new List<StreamEvent>(events.Count);
        foreach (var streamEvent in events)
        {
            if (streamEvent is not LabelsEvent { Signed: { } signed } labels)
            {
                result.Add(streamEvent);
                continue;
            }
            var kept = new List<LabelRecord>(labels.Labels.Count);
            for (var i = 0; i < labels.Labels.Count; i++)
            {
                var label = labels.Labels[i];
                if (label.Src != identity.LabelerDid)
                {
                    kept.Add(label);
                    continue;
                }
                if (await ReasonToIgnoreAsync(signed[i], keys) is { } reason)
                {
                    setAside.Skip(reason);
                    LogIgnored(labels.SeqNumber, label.Value, reason);
                    continue;
                }
                kept.Add(label);
            }
            result.Add(new LabelsEvent(labels.SeqNumber, kept));
        }
        return result;
    }

    private static async Task<string?> ReasonToIgnoreAsync(AtSync.AtProto.EventStream.Label label, LabelerKeys keys)
    {
        if (label.Sig is not { Length: > 0 }) return Outcomes.UnsignedLabel;
        if (await keys.CurrentAsync(refresh: false) is not { } key) return Outcomes.UnverifiedLabel;
        if (LabelSignature.Check(label, key) == LabelSignatureStatus.Valid) return null;
        // The labeler may have rotated its key since the document was cached: one fresh look per batch.
        if (await keys.CurrentAsync(refresh: true) is { } fresh && !fresh.Equals(key) && LabelSignature.Check(label, fresh) == LabelSignatureStatus.Valid)
        {
            return null;
        }
        return Outcomes.BadLabelSignature;
    }

    /// <summary>The labeler's <c>#atproto_label</c> key for one batch: resolved once, refreshed at most once.</summary>
    private sealed class LabelerKeys(IDidResolver dids, string labelerDid, CancellationToken cancellationToken)
    {
        private PublicKey? _key;
        private bool _resolved;
        private bool _refreshed;

        public async Task<PublicKey?> CurrentAsync(bool refresh)
        {
            if (_resolved && (!refresh || _refreshed)) return _key;
            if (!Did.TryParse(labelerDid, out var did)) return null;
            using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            budget.CancelAfter(ResolveBudget);
            try
            {
                var document = refresh ? await dids.RefreshAsync(did, budget.Token) : await dids.ResolveAsync(did, budget.Token);
                _key = document.LabelKey;
            }
            catch (DidResolutionException ex) when (ex.IsTransient)
            {
                throw new SigningKeysUnavailableException(labelerDid, "the labeler's DID document is unavailable");
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new SigningKeysUnavailableException(labelerDid, "resolving the labeler's DID timed out");
            }
            catch (DidResolutionException)
            {
                _key = null;
            }
            _resolved = true;
            _refreshed |= refresh;
            return _key;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Labels seq {Seq}: label {Value} from the labeler is ignored ({Reason})")]
    private partial void LogIgnored(long seq, string value, string reason);
}
