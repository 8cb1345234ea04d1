using System.Buffers;
using AtSync.AtProto.EventStream;

namespace AtSync.AtProto.Crypto;

/// <summary>
/// The event-stream <see cref="ICommitVerifier"/> over a synchronous key lookup (DID → <c>#atproto</c> key, e.g. a
/// warm cache of resolved documents). A DID without a key fails verification.
/// For lookups that may need the network, use <see cref="Identity.RepoSignatureChecker"/>.
/// </summary>
public sealed class CommitBlockVerifier : ICommitVerifier
{
    private readonly Func<string, PublicKey?> _keyForDid;
    private readonly ICommitSignatureVerifier _verifier;

    public CommitBlockVerifier(Func<string, PublicKey?> keyForDid, ICommitSignatureVerifier? verifier = null)
    {
        ArgumentNullException.ThrowIfNull(keyForDid);
        _keyForDid = keyForDid;
        _verifier = verifier ?? CommitSignatureVerifier.Instance;
    }

    public bool Verify(CommitBlock commit)
    {
        ArgumentNullException.ThrowIfNull(commit);
        return _keyForDid(commit.Did) is { } key && VerifyWith(commit, key, _verifier);
    }

    /// <summary>Verifies <paramref name="commit"/>'s <c>sig</c> over its unsigned bytes with <paramref name="key"/>, without heap allocation for typical commits.</summary>
    public static bool VerifyWith(CommitBlock commit, PublicKey key, ICommitSignatureVerifier? verifier = null)
    {
        ArgumentNullException.ThrowIfNull(commit);
        ArgumentNullException.ThrowIfNull(key);
        verifier ??= CommitSignatureVerifier.Instance;
        var length = commit.UnsignedLength;
        byte[]? rented = null;
        var buffer = length <= 1024 ? stackalloc byte[1024] : (rented = ArrayPool<byte>.Shared.Rent(length));
        try
        {
            var written = commit.CopyUnsignedBytes(buffer);
            return verifier.Verify(buffer[..written], commit.Signature.Span, key);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }
}
