using System.Globalization;
using AtSync.AtProto;
using AtSync.AtProto.Cids;
using AtSync.AtProto.DagCbor;
using AtSync.AtProto.Json;
using AtSync.AtProto.Syntax;
using AtSync.Core.Forum;
using AtSync.Firehose.Events;

namespace AtSync.Firehose.Ingest.Jetstream;

/// <summary>
/// Maps Jetstream v1 events onto the Firehose's event model, so they flow through the same verify and apply stages as
/// relay events: a commit becomes a <see cref="CommitEvent"/> of one op (only <c>net.vza.forum.*</c> kept, whatever the
/// server's filter did), identity and account their events. The sequence number is <c>time_us</c> (the Jetstream cursor).
/// A zstd frame is decompressed with Jetstream's dictionary first. The record JSON is turned into DAG-CBOR and must hash
/// to the event's CID; with verification on the applied record is the PDS's proven one anyway (<c>Verify/Jetstream/</c>).
/// </summary>
public sealed class JetstreamEventDecoder(int maxMessageBytes)
{
    /// <summary>The <see cref="ForumOp.Problem"/> of a record whose JSON does not hash to the event's CID (a tampered event).</summary>
    public const string RecordHashMismatch = "the record does not hash to the event's cid";

    public StreamEvent Decode(ReadOnlyMemory<byte> frame)
    {
        JetstreamMessage message;
        ReadOnlyMemory<byte> json;
        try
        {
            json = JetstreamDictionary.IsCompressed(frame.Span) ? JetstreamDictionary.Decompress(frame.Span, maxMessageBytes) : frame;
            message = JetstreamMessage.Parse(json);
        }
        catch (Exception ex) when (ex is FormatException or System.Text.Json.JsonException or InvalidDataException or ArgumentException)
        {
            throw new StreamDecodeException($"not a Jetstream event ({ex.GetType().Name}): {ex.Message}", ex);
        }
        if (!Did.TryParse(message.Did, out _)) throw new StreamDecodeException("not a Jetstream event: did is not a DID");
        var time = TimeOf(message.TimeUs);
        return message.Kind switch
        {
            JetstreamMessage.CommitKind => Commit(message, message.Commit!, time, json),
            JetstreamMessage.IdentityKind => new IdentityEvent(message.TimeUs, message.Did, message.Handle, RelayTimeOr(message.RelayTime, time)),
            JetstreamMessage.AccountKind => new AccountEvent(message.TimeUs, message.Did, message.Active!.Value, message.Status, RelayTimeOr(message.RelayTime, time)),
            _ => new UnknownEvent(message.TimeUs, message.Kind),
        };
    }

    /// <summary>
    /// An event's time is the time the network stamped on it, as on the relay path (whose frames carry the relay's
    /// <c>time</c>), so the two sources write the same rows: <c>#identity</c> and <c>#account</c> carry the relay's
    /// <c>time</c> inside Jetstream's event and that is used when it parses; a commit carries only <c>time_us</c>
    /// (when Jetstream took the event from the relay, milliseconds after the relay's stamp), used for it and as the
    /// fallback. phpBB columns are whole seconds (<see cref="Apply.EventTimes"/> truncates).
    /// </summary>
    public static DateTimeOffset TimeOf(long timeUs) =>
        DateTimeOffset.UnixEpoch.AddTicks(Math.Min(timeUs, DateTimeOffset.MaxValue.ToUnixTimeMilliseconds() * 1000) * 10);

    private static DateTimeOffset RelayTimeOr(string? relayTime, DateTimeOffset fallback) =>
        relayTime is not null
        && DateTimeOffset.TryParse(relayTime, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed)
        && parsed > DateTimeOffset.UnixEpoch
            ? parsed
            : fallback;

    /// <summary>
    /// A forum commit keeps a copy of its event's JSON (decompressed) as <see cref="CommitProof.Frame"/>: nothing else of
    /// a Jetstream event is a proof, but that copy is what a held event keeps (<c>atproto_held_commits</c>, format
    /// <see cref="Core.Sync.HeldFormats.Jetstream"/>) and decodes again when its author is released.
    /// </summary>
    private static CommitEvent Commit(JetstreamMessage message, JetstreamCommit commit, DateTimeOffset time, ReadOnlyMemory<byte> json)
    {
        if (!commit.Collection.StartsWith(ForumLexicon.CollectionPrefix, StringComparison.Ordinal))
        {
            return new CommitEvent(message.TimeUs, message.Did, commit.Rev, time, [], 1);
        }
        return new CommitEvent(message.TimeUs, message.Did, commit.Rev, time, [ForumOpOf(commit)], 0,
            Proof: new CommitProof(null, null, null, AtSync.AtProto.Sync.CommitRejection.None, null, json.ToArray()));
    }

    /// <summary>The forum op of a Jetstream commit; a record that is not what its CID names has a <see cref="ForumOp.Problem"/>.</summary>
    public static ForumOp ForumOpOf(JetstreamCommit commit)
    {
        var action = commit.Operation switch
        {
            "create" => ForumOp.Create,
            "update" => ForumOp.Update,
            _ => ForumOp.Delete,
        };
        if (!Nsid.IsValid(commit.Collection) || !RecordKey.IsValid(commit.Rkey) || !Tid.TryParse(commit.Rev, out _))
        {
            return new ForumOp(action, commit.Collection, commit.Rkey, commit.Cid, null, "collection, record key or rev is malformed");
        }
        if (action == ForumOp.Delete) return new ForumOp(action, commit.Collection, commit.Rkey, null, null, null);
        if (!Cid.TryParse(commit.Cid, out var cid)) return new ForumOp(action, commit.Collection, commit.Rkey, null, null, "cid is not a CID");
        if (commit.Collection != ForumLexicon.Post) return new ForumOp(action, commit.Collection, commit.Rkey, commit.Cid, null, null);
        try
        {
            var value = AtProtoJson.FromJson(commit.RecordJson!);
            if (Cid.ForDagCbor(DagCborWriter.Encode(value)) != cid)
            {
                return new ForumOp(action, commit.Collection, commit.Rkey, commit.Cid, null, RecordHashMismatch);
            }
            ForumPostRecordCbor.TryRead(value, out var post, out var problem);
            return new ForumOp(action, commit.Collection, commit.Rkey, commit.Cid, post, problem);
        }
        catch (Exception ex) when (ex is AtProtoDataException or InvalidOperationException or FormatException or ArgumentException)
        {
            return new ForumOp(action, commit.Collection, commit.Rkey, commit.Cid, null, ex.Message);
        }
    }
}
