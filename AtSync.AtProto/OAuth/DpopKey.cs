using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace AtSync.AtProto.OAuth;

/// <summary>
/// An ES256 (P-256) key: a session's DPoP key, or a confidential client's signing key. The private half never
/// leaves this type except through <see cref="ExportPrivateKey"/> (for encrypted storage); <see cref="ToString"/>
/// shows only the thumbprint.
/// </summary>
public sealed class DpopKey : IDisposable
{
    public const string Algorithm = "ES256";

    private readonly ECDsa _key;
    private readonly JsonObject _publicJwk;

    private DpopKey(ECDsa key, string? keyId)
    {
        _key = key;
        var p = key.ExportParameters(includePrivateParameters: false);
        X = Base64Url.EncodeToString(p.Q.X);
        Y = Base64Url.EncodeToString(p.Q.Y);
        // RFC 7638: the required members in lexicographic order, no whitespace.
        Thumbprint = Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes($"{{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"{X}\",\"y\":\"{Y}\"}}")));
        KeyId = keyId;
        _publicJwk = new JsonObject { ["kty"] = "EC", ["crv"] = "P-256", ["x"] = X, ["y"] = Y };
    }

    public string X { get; }

    public string Y { get; }

    /// <summary>The RFC 7638 JWK thumbprint (what a DPoP-bound token's <c>cnf.jkt</c> names).</summary>
    public string Thumbprint { get; }

    /// <summary>The <c>kid</c> of a client signing key (null for DPoP keys).</summary>
    public string? KeyId { get; }

    /// <summary>A fresh key (one per OAuth session).</summary>
    public static DpopKey Generate(string? keyId = null) => new(ECDsa.Create(ECCurve.NamedCurves.nistP256), keyId);

    /// <summary>Reads a key from <see cref="ExportPrivateKey"/>'s form (base64url PKCS#8).</summary>
    public static DpopKey ImportPrivateKey(string pkcs8Base64Url, string? keyId = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(pkcs8Base64Url);
        var key = ECDsa.Create();
        try
        {
            var bytes = Base64Url.DecodeFromChars(pkcs8Base64Url);
            key.ImportPkcs8PrivateKey(bytes, out _);
            if (key.KeySize != 256 || key.ExportParameters(false).Curve.Oid.Value != ECCurve.NamedCurves.nistP256.Oid.Value)
            {
                throw new CryptographicException("not a P-256 key");
            }
            return new DpopKey(key, keyId);
        }
        catch (Exception ex) when (ex is FormatException or CryptographicException)
        {
            key.Dispose();
            // Never echo the value.
            throw new ArgumentException("The key is not a base64url PKCS#8 P-256 private key.", nameof(pkcs8Base64Url), ex);
        }
    }

    /// <summary>The private key as base64url PKCS#8: a secret, store it only encrypted.</summary>
    public string ExportPrivateKey() => Base64Url.EncodeToString(_key.ExportPkcs8PrivateKey());

    /// <summary>The public JWK (<c>kty</c>, <c>crv</c>, <c>x</c>, <c>y</c>; with <c>kid</c>, <c>use</c> and <c>alg</c> for a client key).</summary>
    public JsonObject PublicJwk()
    {
        var jwk = (JsonObject)_publicJwk.DeepClone();
        if (KeyId is not null)
        {
            jwk["kid"] = KeyId;
            jwk["use"] = "sig";
            jwk["alg"] = Algorithm;
        }
        return jwk;
    }

    /// <summary>ES256 signature (IEEE P1363 r‖s, as JWS wants) over <paramref name="data"/>.</summary>
    public byte[] Sign(ReadOnlySpan<byte> data) => _key.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);

    public override string ToString() => $"DpopKey {{ Thumbprint = {Thumbprint} }}";

    public void Dispose() => _key.Dispose();
}
