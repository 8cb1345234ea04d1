namespace AtSync.Core.Tokens;

/// <summary>Why a stored token could not be decrypted.</summary>
public enum TokenCipherFailure
{
    /// <summary>The stored value is not <c>&lt;version&gt;:&lt;base64&gt;</c> of at least a nonce and a tag.</summary>
    Malformed,

    /// <summary>The value names a key version that <c>TOKEN_ENCRYPTION_KEYS</c> does not hold.</summary>
    UnknownKeyVersion,

    /// <summary>Authentication failed: the ciphertext, nonce or tag was altered, or it was sealed with another key.</summary>
    Tampered,
}

/// <summary>
/// A stored token could not be decrypted. The message names the failure and, at most, the key version:
/// never key material, ciphertext or plaintext.
/// </summary>
public sealed class TokenCipherException : Exception
{
    public TokenCipherException(TokenCipherFailure failure, string message) : base(message)
    {
        Failure = failure;
    }

    public TokenCipherFailure Failure { get; }
}
