using AtSync.Core.Forum;

namespace AtSync.Firehose.Events;

/// <summary>
/// A decoded event-stream message, reduced to what the Firehose acts on. Produced by <see cref="IStreamDecoder"/>
/// from AtSync.AtProto's frame types; the processor and the writer only see these.
/// </summary>
public abstract record StreamEvent
{
    /// <summary>The stream sequence number; null for messages without one (info, error).</summary>
    public abstract long? Seq { get; }

    /// <summary>Metric tag of the message type (commit, identity, account, sync, info, error, labels, unknown).</summary>
    public abstract string TypeName { get; }
}

/// <summary>
/// A <c>#commit</c>: the repository's DID and only its <c>net.vza.forum.*</c> operations (others are counted, not kept).
/// <paramref name="SignedCommit"/> is the decoded commit object (did, rev, sig…) of a commit carrying forum ops, for
/// signature verification; null for other commits, or when the commit block is missing, malformed or not under its CID.
/// <paramref name="Proof"/> is what the verify stage needs besides the key (set for commits carrying forum ops).
/// </summary>
public sealed record CommitEvent(
    long SeqNumber, string Repo, string Rev, DateTimeOffset Time, IReadOnlyList<ForumOp> ForumOps, int OtherOps,
    AtSync.AtProto.EventStream.CommitBlock? SignedCommit = null, CommitProof? Proof = null) : StreamEvent
{
    public override long? Seq => SeqNumber;
    public override string TypeName => "commit";
}

/// <summary>
/// A forum commit's sync 1.1 facts, taken when it was decoded (the frame's buffer is reused afterwards): its
/// <c>since</c>, the signed tree root, the verdict of the MST check (<see cref="AtSync.AtProto.Sync.CommitVerifier.VerifyStructure"/>:
/// ops invert to <c>prevData</c>, each op's <c>prev</c>), and a copy of the raw frame, which is what a held commit keeps.
/// </summary>
public sealed record CommitProof(
    string? Since, string? PrevData, string? Data, AtSync.AtProto.Sync.CommitRejection Structure, string? Detail, byte[] Frame);

/// <summary>
/// A <c>#sync</c>: the repository's state is now the signed commit <paramref name="SignedCommit"/> (null when its block
/// is missing or malformed). <paramref name="Frame"/> is a copy of the raw frame, kept if the event must wait.
/// </summary>
public sealed record RepoSyncEvent(
    long SeqNumber, string Did, string Rev, DateTimeOffset Time, AtSync.AtProto.EventStream.CommitBlock? SignedCommit, byte[] Frame) : StreamEvent
{
    public override long? Seq => SeqNumber;
    public override string TypeName => "sync";
}

public sealed record IdentityEvent(long SeqNumber, string Did, string? Handle, DateTimeOffset Time) : StreamEvent
{
    public override long? Seq => SeqNumber;
    public override string TypeName => "identity";
}

public sealed record AccountEvent(long SeqNumber, string Did, bool Active, string? Status, DateTimeOffset Time) : StreamEvent
{
    public override long? Seq => SeqNumber;
    public override string TypeName => "account";
}

/// <summary>A sequenced event the Firehose does not act on.</summary>
public sealed record PassThroughEvent(long SeqNumber, string Type, DateTimeOffset? Time) : StreamEvent
{
    public override long? Seq => SeqNumber;
    public override string TypeName => Type;
}

/// <summary><c>#info</c>, e.g. <c>OutdatedCursor</c>.</summary>
public sealed record InfoEvent(string Name, string? Message) : StreamEvent
{
    public override long? Seq => null;
    public override string TypeName => "info";
}

/// <summary>An error frame (op = -1), e.g. <c>FutureCursor</c> or <c>ConsumerTooSlow</c>; the peer closes after it.</summary>
public sealed record ErrorEvent(string Error, string? Message) : StreamEvent
{
    public override long? Seq => null;
    public override string TypeName => "error";
}

/// <summary>A message of a type this build does not know; skipped (its seq still advances the cursor when present).</summary>
public sealed record UnknownEvent(long? SeqNumber, string Type) : StreamEvent
{
    public override long? Seq => SeqNumber;
    public override string TypeName => "unknown";
}

/// <summary>A <c>#labels</c> message of subscribeLabels.</summary>
public sealed record LabelsEvent(long SeqNumber, IReadOnlyList<LabelRecord> Labels) : StreamEvent
{
    public override long? Seq => SeqNumber;
    public override string TypeName => "labels";
}

/// <summary>One repository operation on a <c>net.vza.forum.*</c> collection.</summary>
public sealed record ForumOp(string Action, string Collection, string Rkey, string? Cid, ForumPostRecord? Post, string? Problem)
{
    public const string Create = "create";
    public const string Update = "update";
    public const string Delete = "delete";

    public string Uri(string repo) => $"at://{repo}/{Collection}/{Rkey}";
}
