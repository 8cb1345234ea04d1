using System.Buffers.Text;
using System.Text.Json;

namespace AtSync.QueueWorker.Sessions;

/// <summary>
/// A linked user's PDS session, decrypted for one batch. Holds a secret: <see cref="ToString"/> leaves the token out.
/// <see cref="StoredAccessToken"/> is the encrypted value it came from, used to tell whether another worker
/// has refreshed the session since.
/// </summary>
/// <remarks>An OAuth session carries its DPoP key (<see cref="DpopKey"/>): its token goes out as <c>Authorization: DPoP</c>
/// with a proof per request. A legacy app-password session has none and sends <c>Bearer</c>.</remarks>
public sealed class UserSession(long userId, string did, Uri pdsUrl, string accessToken, string storedAccessToken, DateTimeOffset? expiresAt,
    AtSync.AtProto.OAuth.DpopKey? dpopKey = null)
{
    public AtSync.AtProto.OAuth.DpopKey? DpopKey { get; } = dpopKey;

    public long UserId { get; } = userId;
    public string Did { get; } = did;
    public Uri PdsUrl { get; } = pdsUrl;
    public string AccessToken { get; } = accessToken;
    public string StoredAccessToken { get; } = storedAccessToken;
    public DateTimeOffset? ExpiresAt { get; } = expiresAt;

    /// <summary>Rate budgets and 429 blocks are kept per PDS and DID.</summary>
    public string BudgetKey => $"{PdsUrl.GetLeftPart(UriPartial.Authority)}|{Did}";

    public override string ToString() => $"UserSession {{ UserId = {UserId}, Did = {Did}, PdsUrl = {PdsUrl}, AccessToken = [redacted], DPoP = {DpopKey is not null} }}";
}

/// <summary>What opening or refreshing a user's session gave: <see cref="Opened"/> or a <see cref="SessionProblem"/>.</summary>
public abstract record SessionResult
{
    /// <summary>A usable session.</summary>
    public sealed record Opened(UserSession Session) : SessionResult;
}

/// <summary>Why a user's rows cannot be written now.</summary>
public abstract record SessionProblem(string Reason) : SessionResult
{
    /// <summary>The user must sign in again (refresh token revoked or invalid, tokens missing or undecryptable): dead-letter.</summary>
    public sealed record SignInRequired(string Why) : SessionProblem($"user must sign in again: {Why}");

    /// <summary>The DID is not (or no longer) linked in atproto_users: dead-letter.</summary>
    public sealed record NotLinked() : SessionProblem("user is not linked in atproto_users");

    /// <summary>The refresh could not be done now (PDS down, timeout): retry later.</summary>
    public sealed record Unavailable(string Error) : SessionProblem($"token refresh failed: {Error}");
}

/// <summary>Reads <c>exp</c> (unix seconds) from a JWT's payload without verifying it; null when there is none.</summary>
public static class JwtExpiry
{
    public static DateTimeOffset? Read(string? jwt)
    {
        if (string.IsNullOrEmpty(jwt)) return null;
        var parts = jwt.Split('.');
        if (parts.Length != 3) return null;
        var payload = parts[1];
        var buffer = new byte[Base64Url.GetMaxDecodedLength(payload.Length)];
        if (!Base64Url.TryDecodeFromChars(payload, buffer, out var written)) return null;
        try
        {
            using var document = JsonDocument.Parse(buffer.AsMemory(0, written));
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("exp", out var exp)
                && exp.TryGetInt64(out var seconds) && seconds is > 0 and < 253402300799
                ? DateTimeOffset.FromUnixTimeSeconds(seconds)
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
