namespace AtSync.AtProto.Xrpc;

/// <summary>What went wrong with an XRPC call.</summary>
public enum XrpcErrorKind
{
    /// <summary>The server answered with an error status (4xx/5xx); <see cref="XrpcException.Error"/> names the error.</summary>
    ServerError,

    /// <summary>The request never got a response: connection refused or reset, DNS failure, TLS failure. Safe to retry.</summary>
    Transport,

    /// <summary>No response within the HTTP client's timeout. Safe to retry.</summary>
    Timeout,

    /// <summary>The server answered with success but the body was not what the method returns (malformed JSON, too large).</summary>
    InvalidResponse,
}
