namespace AtSync.AtProto.OAuth;

/// <summary>An authorization request to push (PAR, RFC 9126). <see cref="Pkce"/> and <see cref="State"/> stay with the caller for the callback.</summary>
public sealed record AuthorizationRequest(Uri RedirectUri, string Scope, string State, Pkce Pkce, string? LoginHint);

/// <summary>The server's <c>request_uri</c> for a pushed request, and the URL to send the browser to.</summary>
public sealed record PushedAuthorization(string RequestUri, Uri AuthorizeUrl, TimeSpan ExpiresIn);
