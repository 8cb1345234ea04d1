using System.Net;

namespace AtSync.AtProto.Xrpc;

/// <summary>A successful XRPC response: the decoded output plus the status and rate-limit headers.</summary>
public sealed record XrpcResponse<T>(T Value, HttpStatusCode StatusCode, RateLimitInfo? RateLimit);
