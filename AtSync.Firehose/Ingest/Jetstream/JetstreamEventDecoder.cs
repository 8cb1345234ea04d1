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
        try
        {
            var json = JetstreamDictionary.IsCompressed(frame.Span) ? JetstreamDictionary.Decompress(frame.Span, maxMessageBytes) : frame;
            message = JetstreamMessage.Parse(json);
        }
        catch (Exception ex) when (ex is FormatException or System.Text.Json.JsonException or InvalidDataException or ArgumentException)
        {
            throw new StreamDecodeException($"not a Jetstream event ({ex.GetType().Name}): {ex.Message}", ex);
        }
        if (!Did.TryParse(message.Did, out _)) throw new StreamDecodeException("not a Jetstream event: did is not a DID");
        var time = DateTimeOffset.UnixEpoch.AddTicks(Math.Min(message.TimeUs, DateTimeOffset.MaxValue.ToUnixTimeMilliseconds() * 1000) * 10);
        return message.Kind switch
        {
            JetstreamMessage.CommitKind => Commit(message, message.Commit!, time),
            JetstreamMessage.IdentityKind => new IdentityEvent(message.TimeUs, message.Did, message.Handle, time),
            JetstreamMessage.AccountKind => new AccountEvent(message.TimeUs, message.Did, message.Active!.Value, message.Status, time),
            _ => new UnknownEvent(message.TimeUs, message.Kind),
        };
    }

    private static CommitEvent Commit(JetstreamMessage message, JetstreamCommit commit, DateTimeOffset time)
    {
        if (!commit.Collection.StartsWith(ForumLexicon.CollectionPrefix, StringComparison.Ordinal))
        {
            return new CommitEvent(message.TimeUs, message.Did, commit.Rev, time, [], 1);
        }
        return new CommitEvent(message.TimeUs, message.Did, commit.Rev, time, [ForumOpOf(commit)], 0);
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
