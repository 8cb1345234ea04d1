using System.Text.Json;
using AtSync.AtProto.Syntax;

namespace AtSync.AtProto.OAuth;

/// <summary>What the token endpoint gave: DPoP-bound tokens for <see cref="Subject"/>. Secrets: <see cref="ToString"/> leaves them out.</summary>
public sealed record TokenSet(string AccessToken, string? RefreshToken, DateTimeOffset? ExpiresAt, string Scope, Did Subject)
{
    internal static TokenSet Parse(JsonElement root, TimeProvider time)
    {
        var access = root.String("access_token");
        if (string.IsNullOrEmpty(access) || access.Length > 8192 || access.Any(c => c is < '!' or > '~'))
        {
            throw new OAuthException(OAuthException.ProtocolViolation, "the token response has no usable access_token");
        }
        if (!string.Equals(root.String("token_type"), "DPoP", StringComparison.OrdinalIgnoreCase))
        {
            throw new OAuthException(OAuthException.ProtocolViolation, "the token response is not a DPoP-bound token");
        }
        if (!Did.TryParse(root.String("sub"), out var subject))
        {
            throw new OAuthException(OAuthException.ProtocolViolation, "the token response has no DID in sub");
        }
        var scope = root.String("scope") ?? "";
        if (!scope.Split(' ').Contains("atproto", StringComparer.Ordinal))
        {
            throw new OAuthException(OAuthException.ProtocolViolation, "the token response does not grant the atproto scope");
        }
        var refresh = root.String("refresh_token");
        if (refresh is not null && (refresh.Length is 0 or > 8192 || refresh.Any(c => c is < '!' or > '~')))
        {
            throw new OAuthException(OAuthException.ProtocolViolation, "the token response has a malformed refresh_token");
        }
        DateTimeOffset? expires = root.TryGetProperty("expires_in", out var e) && e.TryGetInt64(out var seconds) && seconds is > 0 and < 31_536_000
            ? time.GetUtcNow().AddSeconds(seconds)
            : null;
        return new TokenSet(access, refresh, expires, scope, subject);
    }

    public override string ToString() => $"TokenSet {{ Subject = {Subject.Value}, Scope = {Scope}, ExpiresAt = {ExpiresAt}, tokens [redacted] }}";
}
