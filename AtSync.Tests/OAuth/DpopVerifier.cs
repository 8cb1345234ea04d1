using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AtSync.Tests.OAuth;

/// <summary>The outcome of checking one DPoP proof: the key's thumbprint, or why it was refused.</summary>
public sealed record DpopCheck(string? Thumbprint, string? Error, bool NeedsNonce)
{
    public bool Ok => Thumbprint is not null;
}

/// <summary>
/// A server's DPoP proof checks (RFC 9449 §4.3), with Microsoft.IdentityModel doing the JWS part: <c>typ</c>
/// dpop+jwt, ES256, a public <c>jwk</c> in the header that verifies the signature, <c>htm</c>/<c>htu</c> of this
/// request, <c>iat</c> within the window, a <c>jti</c> never seen before, <c>ath</c> of the presented token, and the
/// server's current (or previous) nonce; nonces rotate every <see cref="RotateEvery"/> accepted proofs.
/// </summary>
public sealed class DpopVerifier(TimeProvider time)
{
    private readonly ConcurrentDictionary<string, byte> _seenJti = new(StringComparer.Ordinal);
    private readonly Lock _nonceLock = new();
    private string _nonce = NewNonce();
    private string _previousNonce = NewNonce();
    private int _accepted;

    public TimeSpan IatWindow { get; set; } = TimeSpan.FromSeconds(60);

    public int RotateEvery { get; set; } = 7;

    /// <summary>Proofs refused for a replayed jti (counted for tests).</summary>
    public int ReplaysRefused => Volatile.Read(ref _replays);

    private int _replays;

    public string CurrentNonce
    {
        get { lock (_nonceLock) return _nonce; }
    }

    public async Task<DpopCheck> CheckAsync(string? proof, string method, Uri url, string? accessToken)
    {
        if (string.IsNullOrEmpty(proof) || proof.Count(c => c == '.') != 2) return new(null, "missing or malformed DPoP proof", false);
        JsonWebKey key;
        try
        {
            var headerJson = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(proof.AsSpan(0, proof.IndexOf('.'))));
            using var header = JsonDocument.Parse(headerJson);
            var root = header.RootElement;
            if (root.GetProperty("typ").GetString() != "dpop+jwt" || root.GetProperty("alg").GetString() != "ES256")
                return new(null, "typ must be dpop+jwt and alg ES256", false);
            var jwk = root.GetProperty("jwk");
            if (jwk.TryGetProperty("d", out _)) return new(null, "the jwk holds a private key", false);
            key = new JsonWebKey(jwk.GetRawText());
            if (key.Kty != "EC" || key.Crv != "P-256") return new(null, "jwk must be an EC P-256 key", false);
        }
        catch (Exception ex) when (ex is FormatException or JsonException or KeyNotFoundException or InvalidOperationException or ArgumentException)
        {
            return new(null, "malformed DPoP header", false);
        }

        var result = await new JsonWebTokenHandler().ValidateTokenAsync(proof, new TokenValidationParameters
        {
            IssuerSigningKey = key,
            ValidateIssuer = false,
            ValidateAudience = false,
            ValidateLifetime = false,
            RequireExpirationTime = false,
            RequireSignedTokens = true,
            ValidTypes = ["dpop+jwt"],
            ValidAlgorithms = [SecurityAlgorithms.EcdsaSha256],
        });
        if (!result.IsValid) return new(null, "the DPoP signature does not verify with its jwk", false);
        var claims = result.Claims;
        string? Claim(string name) => claims.TryGetValue(name, out var v) ? v?.ToString() : null;

        if (Claim("htm") != method) return new(null, "htm is not this request's method", false);
        var expectedHtu = url.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped);
        if (Claim("htu") != expectedHtu) return new(null, "htu is not this request's URL", false);
        if (!long.TryParse(Claim("iat"), out var iat) || Math.Abs(time.GetUtcNow().ToUnixTimeSeconds() - iat) > IatWindow.TotalSeconds)
            return new(null, "iat is outside the accepted window", false);
        if (accessToken is not null)
        {
            var ath = Base64Url.EncodeToString(SHA256.HashData(Encoding.ASCII.GetBytes(accessToken)));
            if (Claim("ath") != ath) return new(null, "ath does not match the access token", false);
        }
        var nonce = Claim("nonce");
        lock (_nonceLock)
        {
            if (nonce is null || (nonce != _nonce && nonce != _previousNonce)) return new(null, "use_dpop_nonce", true);
        }
        var jti = Claim("jti");
        if (string.IsNullOrEmpty(jti) || !_seenJti.TryAdd(jti, 0))
        {
            Interlocked.Increment(ref _replays);
            return new(null, "jti was already used", false);
        }
        lock (_nonceLock)
        {
            if (++_accepted % RotateEvery == 0)
            {
                _previousNonce = _nonce;
                _nonce = NewNonce();
            }
        }
        return new(Thumbprint(key), null, false);
    }

    /// <summary>RFC 7638 thumbprint of an EC key.</summary>
    public static string Thumbprint(JsonWebKey key) =>
        Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes($"{{\"crv\":\"{key.Crv}\",\"kty\":\"EC\",\"x\":\"{key.X}\",\"y\":\"{key.Y}\"}}")));

    private static string NewNonce() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(16));
}
