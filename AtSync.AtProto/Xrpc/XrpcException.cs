using System.Net;

namespace AtSync.AtProto.Xrpc;

/// <summary>
/// An XRPC call failed. Never carries credentials: bearer tokens are not part of the message, and a server
/// that echoes the token back has it redacted.
/// </summary>
public sealed class XrpcException : Exception
{
    /// <summary>Error name used when an error response had no usable <c>{error}</c> body (e.g. an HTML page from a proxy).</summary>
    public const string HttpError = "HttpError";

    /// <summary>Error name of <see cref="XrpcErrorKind.Transport"/> failures.</summary>
    public const string TransportError = "TransportError";

    /// <summary>Error name of <see cref="XrpcErrorKind.Timeout"/> failures.</summary>
    public const string TimeoutError = "Timeout";

    /// <summary>Error name of <see cref="XrpcErrorKind.InvalidResponse"/> failures.</summary>
    public const string InvalidResponseError = "InvalidResponse";

    public XrpcException(
        XrpcErrorKind kind,
        string nsid,
        HttpStatusCode? statusCode,
        string error,
        string? errorMessage,
        RateLimitInfo? rateLimit,
        Exception? innerException = null)
        : base(Describe(kind, nsid, statusCode, error, errorMessage), innerException)
    {
        Kind = kind;
        Nsid = nsid;
        StatusCode = statusCode;
        Error = error;
        ErrorMessage = errorMessage;
        RateLimit = rateLimit;
    }

    public XrpcErrorKind Kind { get; }

    /// <summary>The method called.</summary>
    public string Nsid { get; }

    /// <summary>HTTP status of the response; null when there was none (transport failure, timeout).</summary>
    public HttpStatusCode? StatusCode { get; }

    /// <summary>The XRPC error name (<c>ExpiredToken</c>, <c>InvalidToken</c>, <c>RateLimitExceeded</c>, …), or one of
    /// <see cref="HttpError"/>, <see cref="TransportError"/>, <see cref="TimeoutError"/>, <see cref="InvalidResponseError"/>.</summary>
    public string Error { get; }

    /// <summary>The server's human-readable <c>message</c> (sanitized and truncated), if any.</summary>
    public string? ErrorMessage { get; }

    /// <summary>Rate-limit headers on the error response, if any.</summary>
    public RateLimitInfo? RateLimit { get; }

    /// <summary><c>Retry-After</c> of the error response, if any.</summary>
    public TimeSpan? RetryAfter => RateLimit?.RetryAfter;

    /// <summary>
    /// True when trying the same call again later may succeed: transport failures, timeouts, 429, 5xx except 501.
    /// </summary>
    public bool IsTransient => Kind is XrpcErrorKind.Transport or XrpcErrorKind.Timeout
        || (Kind == XrpcErrorKind.ServerError && StatusCode is { } s
            && (s == HttpStatusCode.TooManyRequests || s == HttpStatusCode.RequestTimeout
                || ((int)s >= 500 && s != HttpStatusCode.NotImplemented)));

    /// <summary>True for <c>ExpiredToken</c>: refresh the session and retry.</summary>
    public bool IsExpiredToken => Error == "ExpiredToken";

    private static string Describe(XrpcErrorKind kind, string nsid, HttpStatusCode? status, string error, string? message)
    {
        var head = kind switch
        {
            XrpcErrorKind.ServerError => $"XRPC {nsid} failed: {(int?)status} {error}",
            XrpcErrorKind.Transport => $"XRPC {nsid} failed: transport error",
            XrpcErrorKind.Timeout => $"XRPC {nsid} failed: timed out",
            _ => $"XRPC {nsid} failed: invalid response{(status is null ? "" : $" ({(int)status})")}",
        };
        return string.IsNullOrEmpty(message) ? head : $"{head}: {message}";
    }
}
