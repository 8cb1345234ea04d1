using System.Net;
using AtSync.AtProto.Syntax;

namespace AtSync.AtProto.Identity;

public enum DidResolutionError
{
    /// <summary>The DID method is not <c>plc</c> or <c>web</c>, or the identifier cannot be resolved (e.g. did:web with a path).</summary>
    UnsupportedDid,

    /// <summary>The directory or host has no document for the DID (404).</summary>
    NotFound,

    /// <summary>The DID was deactivated (PLC answers 410 Gone).</summary>
    Tombstoned,

    /// <summary>A document came back but is malformed, too large, or describes a different DID.</summary>
    InvalidDocument,

    /// <summary>The directory or host failed (5xx, other status, connection error, timeout). Worth retrying later.</summary>
    Unavailable,

    /// <summary>
    /// The host was not asked, or its answer not followed: it resolves to a loopback, private or otherwise non-public
    /// address (<see cref="IdentityHttpHandler"/>), or it answered with a redirect. Not worth retrying.
    /// </summary>
    Refused,
}

/// <summary>A DID could not be resolved to a document.</summary>
public sealed class DidResolutionException : Exception
{
    public DidResolutionException(Did did, DidResolutionError error, string message, HttpStatusCode? statusCode = null, Exception? innerException = null)
        : base($"Cannot resolve {did}: {message}", innerException)
    {
        Did = did;
        Error = error;
        StatusCode = statusCode;
        Detail = message;
    }

    /// <summary>Why, without the DID (the message given to the constructor), for logs that name the DID already.</summary>
    public string Detail { get; }

    public Did Did { get; }

    public DidResolutionError Error { get; }

    public HttpStatusCode? StatusCode { get; }

    public bool IsTransient => Error == DidResolutionError.Unavailable;
}
