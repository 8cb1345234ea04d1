using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace AtSync.AtProto.OAuth;

/// <summary>A PKCE pair (RFC 7636) with the only method AT OAuth allows, <c>S256</c>. The verifier is a secret.</summary>
public sealed class Pkce
{
    public const string Method = "S256";

    private Pkce(string verifier)
    {
        Verifier = verifier;
        Challenge = ChallengeOf(verifier);
    }

    /// <summary>43 characters of base64url (32 random bytes), sent only with the code exchange.</summary>
    public string Verifier { get; }

    /// <summary><c>BASE64URL(SHA-256(ASCII(verifier)))</c>, sent with the authorization request.</summary>
    public string Challenge { get; }

    public static Pkce Create() => new(Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32)));

    /// <summary>Rebuilds the pair from a stored verifier.</summary>
    public static Pkce FromVerifier(string verifier)
    {
        ArgumentException.ThrowIfNullOrEmpty(verifier);
        if (verifier.Length is < 43 or > 128)
        {
            throw new ArgumentException("A PKCE verifier has 43 to 128 characters.", nameof(verifier));
        }
        return new Pkce(verifier);
    }

    public static string ChallengeOf(string verifier) =>
        Base64Url.EncodeToString(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));

    public override string ToString() => "Pkce { Verifier = [redacted] }";
}
