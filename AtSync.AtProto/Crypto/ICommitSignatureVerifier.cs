namespace AtSync.AtProto.Crypto;

/// <summary>
/// Checks a repo commit's signature: <paramref name="unsignedCommit"/> is the DAG-CBOR encoding of the commit
/// object without its <c>sig</c> field; <paramref name="signature"/> is the <c>sig</c> bytes.
/// </summary>
public interface ICommitSignatureVerifier
{
    bool Verify(ReadOnlySpan<byte> unsignedCommit, ReadOnlySpan<byte> signature, PublicKey signingKey);
}

/// <summary>atproto rules: 64-byte r ‖ s, low-S, ECDSA over SHA-256 with the repo's <c>#atproto</c> key.</summary>
public sealed class CommitSignatureVerifier : ICommitSignatureVerifier
{
    public static readonly CommitSignatureVerifier Instance = new();

    public bool Verify(ReadOnlySpan<byte> unsignedCommit, ReadOnlySpan<byte> signature, PublicKey signingKey)
    {
        ArgumentNullException.ThrowIfNull(signingKey);
        return signingKey.Verify(unsignedCommit, signature);
    }
}
