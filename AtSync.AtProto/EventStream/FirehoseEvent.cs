using AtSync.AtProto.Car;
using AtSync.AtProto.Cids;
using AtSync.AtProto.DagCbor;

namespace AtSync.AtProto.EventStream;

/// <summary>
/// One decoded event-stream message (<c>com.atproto.sync.subscribeRepos</c> or <c>com.atproto.label.subscribeLabels</c>).
/// Switch on the sealed subtypes: <see cref="CommitEvent"/>, <see cref="SyncEvent"/>, <see cref="IdentityEvent"/>,
/// <see cref="AccountEvent"/>, <see cref="LabelsEvent"/>, <see cref="InfoEvent"/>, <see cref="ErrorEvent"/>, <see cref="UnknownEvent"/>.
/// </summary>
public abstract record FirehoseEvent
{
    /// <summary>The stream sequence number (the cursor), for the kinds that carry one.</summary>
    public virtual long? Sequence => null;
}

/// <summary><c>#commit</c>: a repository commit with its ops and the CAR slice holding the commit, MST nodes and records.</summary>
public sealed record CommitEvent : FirehoseEvent
{
    public required long Seq { get; init; }

    /// <summary>The repository DID.</summary>
    public required string Repo { get; init; }

    /// <summary>CID of the commit object (a block in <see cref="Blocks"/>).</summary>
    public required Cid Commit { get; init; }

    public required string Rev { get; init; }

    /// <summary>Rev of the previous commit of this repo, or null.</summary>
    public string? Since { get; init; }

    /// <summary>The CAR slice (already read, and CID-checked unless disabled in the options).</summary>
    public required CarFile Blocks { get; init; }

    public required IReadOnlyList<RepoOp> Ops { get; init; }

    /// <summary>Root of the previous MST (sync v1.1), or null.</summary>
    public Cid? PrevData { get; init; }

    /// <summary>When the event was emitted (AT Protocol datetime string, as sent).</summary>
    public required string Time { get; init; }

    public override long? Sequence => Seq;

    /// <summary>
    /// Decodes the commit object (did, version, data, rev, prev, sig) from <see cref="Blocks"/>; its bytes are checked
    /// against <see cref="Commit"/> (at CAR read time, or here when the CAR was read without verification).
    /// </summary>
    public CommitBlock ReadCommitBlock() => CommitBlock.Decode(Blocks.GetCheckedBlock(Commit));

    /// <summary>
    /// The record block for a create/update op: false for deletes or when the CAR lacks the block. The bytes are
    /// checked against the op's CID (at CAR read time, or here when the CAR was read without verification).
    /// </summary>
    public bool TryGetRecordBytes(RepoOp op, out ReadOnlyMemory<byte> bytes)
    {
        bytes = default;
        if (op.Cid is not { } cid || !Blocks.TryGetBlock(cid, out bytes))
        {
            return false;
        }

        if (!Blocks.IsBlockOf(cid, bytes.Span))
        {
            throw new CarException($"record block for {op.Path} does not hash to its CID {cid}");
        }

        return true;
    }

    /// <summary>Decodes the op's record (strict DAG-CBOR; the value references the frame's bytes).</summary>
    public bool TryGetRecord(RepoOp op, out DagCborValue record)
    {
        if (!TryGetRecordBytes(op, out var bytes))
        {
            record = default;
            return false;
        }

        record = DagCborReader.Decode(bytes);
        return true;
    }

    /// <summary>Checks the commit signature through <paramref name="verifier"/> (see <see cref="ICommitVerifier"/>).</summary>
    public bool VerifySignature(ICommitVerifier verifier) => verifier.Verify(ReadCommitBlock());
}

/// <summary><c>#sync</c>: the repo's current commit, asserting its state (no ops).</summary>
public sealed record SyncEvent : FirehoseEvent
{
    public required long Seq { get; init; }

    public required string Did { get; init; }

    /// <summary>CAR holding the commit block (its root).</summary>
    public required CarFile Blocks { get; init; }

    public required string Rev { get; init; }

    public required string Time { get; init; }

    public override long? Sequence => Seq;

    /// <summary>Decodes the commit block named by the CAR root (checked against it when the CAR was read without verification).</summary>
    public CommitBlock ReadCommitBlock()
    {
        if (Blocks.Roots.Count == 0)
        {
            throw new FrameFormatException("#sync CAR has no root");
        }

        return CommitBlock.Decode(Blocks.GetCheckedBlock(Blocks.Roots[0]));
    }
}

/// <summary><c>#identity</c>: the DID's identity (handle, keys, PDS) may have changed.</summary>
public sealed record IdentityEvent : FirehoseEvent
{
    public required long Seq { get; init; }

    public required string Did { get; init; }

    public required string Time { get; init; }

    public string? Handle { get; init; }

    public override long? Sequence => Seq;
}

/// <summary><c>#account</c>: hosting status of an account changed.</summary>
public sealed record AccountEvent : FirehoseEvent
{
    public required long Seq { get; init; }

    public required string Did { get; init; }

    public required string Time { get; init; }

    public required bool Active { get; init; }

    /// <summary>Why the account is inactive (e.g. <c>takendown</c>, <c>suspended</c>, <c>deleted</c>, <c>deactivated</c>), or null.</summary>
    public string? Status { get; init; }

    public override long? Sequence => Seq;
}

/// <summary><c>#labels</c> from <c>com.atproto.label.subscribeLabels</c>.</summary>
public sealed record LabelsEvent : FirehoseEvent
{
    public required long Seq { get; init; }

    public required IReadOnlyList<Label> Labels { get; init; }

    public override long? Sequence => Seq;
}

/// <summary><c>#info</c>: an informational message, e.g. <c>OutdatedCursor</c>.</summary>
public sealed record InfoEvent : FirehoseEvent
{
    public required string Name { get; init; }

    public string? Message { get; init; }
}

/// <summary>An error frame (<c>op: -1</c>), e.g. <c>FutureCursor</c> or <c>ConsumerTooSlow</c>; the server closes the stream after it.</summary>
public sealed record ErrorEvent : FirehoseEvent
{
    public required string Error { get; init; }

    public string? Message { get; init; }
}

/// <summary>A message type this library does not know (not an error: newer servers add types).</summary>
public sealed record UnknownEvent : FirehoseEvent
{
    /// <summary>The header's <c>t</c>, e.g. <c>#somethingNew</c>.</summary>
    public required string Type { get; init; }

    /// <summary>The (validated) DAG-CBOR body bytes.</summary>
    public required ReadOnlyMemory<byte> Body { get; init; }
}
