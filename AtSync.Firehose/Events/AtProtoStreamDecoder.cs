using System.Globalization;
using AtSync.AtProto;
using AtSync.AtProto.Sync;
using AtSync.Core.Forum;
using Wire = AtSync.AtProto.EventStream;

namespace AtSync.Firehose.Events;

/// <summary>
/// Decodes frames with AtSync.AtProto's <see cref="Wire.FrameDecoder"/> and keeps what the Firehose needs: of a commit,
/// only the <c>net.vza.forum.*</c> operations, with <c>net.vza.forum.post</c> records read from the CAR (CID-checked).
/// Any malformed input becomes a <see cref="StreamDecodeException"/>.
/// </summary>
public sealed class AtProtoStreamDecoder : IStreamDecoder
{
    /// <summary>
    /// CAR blocks are not hashed when the frame is read: most commits carry no forum record, and the record block of a
    /// forum op is checked against its CID when it is read (<c>CommitEvent.TryGetRecordBytes</c>).
    /// </summary>
    private static readonly Wire.FrameDecodeOptions Options = Wire.FrameDecodeOptions.Default with
    {
        Car = Wire.FrameDecodeOptions.Default.Car with { VerifyBlocks = false },
    };

    public StreamEvent DecodeRepoFrame(ReadOnlyMemory<byte> frame) => Decode(frame, labels: false);

    public StreamEvent DecodeLabelFrame(ReadOnlyMemory<byte> frame) => Decode(frame, labels: true);

    private static StreamEvent Decode(ReadOnlyMemory<byte> frame, bool labels)
    {
        Wire.FirehoseEvent decoded;
        try
        {
            decoded = labels ? Wire.FrameDecoder.DecodeLabelFrame(frame, Options) : Wire.FrameDecoder.DecodeRepoFrame(frame, Options);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw new StreamDecodeException(ex is AtProtoDataException data ? data.Message : $"{ex.GetType().Name} while decoding", ex);
        }
        return decoded switch
        {
            Wire.CommitEvent commit => Commit(commit, frame),
            Wire.IdentityEvent identity => new IdentityEvent(identity.Seq, identity.Did, identity.Handle, Time(identity.Time)),
            Wire.AccountEvent account => new AccountEvent(account.Seq, account.Did, account.Active, account.Status, Time(account.Time)),
            Wire.SyncEvent sync => new RepoSyncEvent(sync.Seq, sync.Did, sync.Rev, Time(sync.Time), SyncCommitOf(sync), frame.ToArray()),
            Wire.LabelsEvent labelsEvent => new LabelsEvent(labelsEvent.Seq, [.. labelsEvent.Labels.Select(Label)]),
            Wire.InfoEvent info => new InfoEvent(info.Name, info.Message),
            Wire.ErrorEvent error => new ErrorEvent(error.Error, error.Message),
            Wire.UnknownEvent unknown => new UnknownEvent(null, unknown.Type),
            _ => new UnknownEvent(decoded.Sequence, decoded.GetType().Name),
        };
    }

    private static CommitEvent Commit(Wire.CommitEvent commit, ReadOnlyMemory<byte> frame)
    {
        List<ForumOp>? forumOps = null;
        var other = 0;
        foreach (var op in commit.Ops)
        {
            if (!op.Path.StartsWith(ForumLexicon.CollectionPrefix, StringComparison.Ordinal))
            {
                other++;
                continue;
            }
            forumOps ??= [];
            forumOps.Add(ForumOpOf(commit, op));
        }
        return forumOps is null
            ? new CommitEvent(commit.Seq, commit.Repo, commit.Rev, Time(commit.Time), [], other)
            : new CommitEvent(commit.Seq, commit.Repo, commit.Rev, Time(commit.Time), forumOps, other, SignedCommitOf(commit), ProofOf(commit, frame));
    }

    /// <summary>The MST check of a forum commit (CPU only, on the blocks the frame carries) and a copy of the frame.</summary>
    private static CommitProof ProofOf(Wire.CommitEvent commit, ReadOnlyMemory<byte> frame)
    {
        CommitVerdict verdict;
        try
        {
            verdict = CommitVerifier.VerifyStructure(commit);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Hostile blocks must never stop the stream: whatever the check could not get through is a refusal.
            verdict = new CommitVerdict(CommitRejection.MalformedTree, ex.GetType().Name);
        }
        string? data = null;
        try
        {
            data = commit.Blocks.TryGetBlock(commit.Commit, out var bytes) ? Wire.CommitBlock.Decode(bytes).Data.ToString() : null;
        }
        catch (Exception ex) when (ex is AtProtoDataException or InvalidOperationException or FormatException or ArgumentException)
        {
        }
        return new CommitProof(commit.Since, commit.PrevData?.ToString(), data, verdict.Reason, verdict.Detail, frame.ToArray());
    }

    /// <summary>The commit object a <c>#sync</c> carries (its CAR's root, checked against its CID); null when unusable.</summary>
    private static Wire.CommitBlock? SyncCommitOf(Wire.SyncEvent sync)
    {
        try
        {
            if (sync.Blocks.Roots.Count == 0) return null;
            var root = sync.Blocks.Roots[0];
            if (!sync.Blocks.TryGetBlock(root, out var bytes) || !root.Matches(bytes.Span)) return null;
            return Wire.CommitBlock.Decode(bytes.ToArray());
        }
        catch (Exception ex) when (ex is AtProtoDataException or InvalidOperationException or FormatException or ArgumentException)
        {
            return null;
        }
    }

    /// <summary>
    /// The commit object of a commit carrying forum ops, checked against its CID (blocks are not hashed at read time);
    /// null when it is missing or malformed: such a commit cannot be verified.
    /// </summary>
    private static Wire.CommitBlock? SignedCommitOf(Wire.CommitEvent commit)
    {
        try
        {
            if (!commit.Blocks.TryGetBlock(commit.Commit, out var bytes) || !commit.Commit.Matches(bytes.Span)) return null;
            // Copied: the frame's buffer is pooled and reused once the frame is accepted, long before the batch is verified.
            return Wire.CommitBlock.Decode(bytes.ToArray());
        }
        catch (Exception ex) when (ex is AtProtoDataException or InvalidOperationException or FormatException or ArgumentException)
        {
            return null;
        }
    }

    private static ForumOp ForumOpOf(Wire.CommitEvent commit, Wire.RepoOp op)
    {
        var action = op.Action switch
        {
            Wire.RepoAction.Create => ForumOp.Create,
            Wire.RepoAction.Update => ForumOp.Update,
            _ => ForumOp.Delete,
        };
        var cid = op.Cid?.ToString();
        if (action == ForumOp.Delete || op.Collection != ForumLexicon.Post)
        {
            return new ForumOp(action, op.Collection, op.RecordKey, cid, null, null);
        }
        try
        {
            if (!commit.TryGetRecord(op, out var value))
            {
                return new ForumOp(action, op.Collection, op.RecordKey, cid, null, "record block missing from the commit");
            }
            ForumPostRecordCbor.TryRead(value, out var post, out var problem);
            return new ForumOp(action, op.Collection, op.RecordKey, cid, post, problem);
        }
        catch (Exception ex) when (ex is AtProtoDataException or InvalidOperationException or FormatException or ArgumentException)
        {
            return new ForumOp(action, op.Collection, op.RecordKey, cid, null, ex.Message);
        }
    }

    private static LabelRecord Label(Wire.Label label) =>
        new(label.Src, label.Uri, label.Cid, label.Val, label.Neg, TimeOrNull(label.Cts), TimeOrNull(label.Exp));

    private static DateTimeOffset Time(string value) => TimeOrNull(value) ?? DateTimeOffset.UnixEpoch;

    private static DateTimeOffset? TimeOrNull(string? value) =>
        value is not null && DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed)
            ? parsed
            : null;
}
