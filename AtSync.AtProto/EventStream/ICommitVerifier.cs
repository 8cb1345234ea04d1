namespace AtSync.AtProto.EventStream;

/// <summary>
/// Checks a commit's signature: the seam for signature verification (resolve the repo DID's <c>#atproto</c> key,
/// then verify <see cref="CommitBlock.Signature"/> over <see cref="CommitBlock.CopyUnsignedBytes"/>).
/// </summary>
public interface ICommitVerifier
{
    bool Verify(CommitBlock commit);
}
