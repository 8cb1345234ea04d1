using System.Net;

namespace AtSync.AtProto.OAuth;

/// <summary>
/// An OAuth step failed: the server answered with an error (<see cref="Error"/> is its <c>error</c> code), its
/// answer broke the protocol, or it could not be reached. Messages never hold tokens, codes or keys.
/// </summary>
public sealed class OAuthException : Exception
{
    /// <summary>The error code when the server gave none (network failure, timeout).</summary>
    public const string Unavailable = "unavailable";

    /// <summary>The server's answer broke the protocol (bad JSON, wrong token type, issuer mismatch, …).</summary>
    public const string ProtocolViolation = "protocol_violation";

    public OAuthException(string error, string message, HttpStatusCode? status = null, Exception? inner = null)
        : base(message, inner)
    {
        Error = error;
        StatusCode = status;
    }

    /// <summary>RFC 6749 error code (<c>invalid_grant</c>, <c>use_dpop_nonce</c>, …), or <see cref="Unavailable"/> / <see cref="ProtocolViolation"/>.</summary>
    public string Error { get; }

    public HttpStatusCode? StatusCode { get; }

    /// <summary>The grant (code or refresh token) is no longer good: the user must sign in again.</summary>
    public bool IsInvalidGrant => Error == "invalid_grant";

    /// <summary>Worth trying again later (the server could not be reached or had an internal error).</summary>
    public bool IsTransient => Error == Unavailable || (int?)StatusCode >= 500;
}
