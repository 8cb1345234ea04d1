using AtSync.AtProto.Identity;
using AtSync.AtProto.Syntax;
using AtSync.AtProto.Xrpc;

namespace AtSync.AtProto.OAuth;

/// <summary>
/// Handle or DID → DID document → PDS → <c>/.well-known/oauth-protected-resource</c> → the authorization server's
/// metadata, issuer checked. Handles are resolved with <c>com.atproto.identity.resolveHandle</c> at
/// <paramref name="handleResolver"/> and must be claimed back by the DID document.
/// </summary>
public sealed class AccountResolver(HttpClient http, IDidResolver dids, XrpcClient handleResolver, OAuthUrls urls)
{
    public const string ProtectedResourcePath = "/.well-known/oauth-protected-resource";

    /// <summary>Resolves what a user typed: a handle (with or without <c>@</c>) or a DID.</summary>
    public async Task<ResolvedAccount> ResolveAsync(string handleOrDid, CancellationToken cancellationToken = default)
    {
        var input = (handleOrDid ?? "").Trim();
        if (input.StartsWith('@')) input = input[1..];
        Did did;
        Handle? typedHandle = null;
        if (input.StartsWith("did:", StringComparison.Ordinal))
        {
            if (!Did.TryParse(input, out did)) throw new OAuthException("invalid_identifier", "that is not a valid DID");
        }
        else if (Handle.TryParse(input.ToLowerInvariant(), out var handle))
        {
            typedHandle = handle;
            did = await ResolveHandleAsync(handle, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            throw new OAuthException("invalid_identifier", "enter a handle (like alice.example.com) or a DID");
        }

        DidDocument document;
        try
        {
            document = await dids.ResolveAsync(did, cancellationToken).ConfigureAwait(false);
        }
        catch (DidResolutionException ex)
        {
            throw new OAuthException(OAuthException.Unavailable, $"the DID document could not be resolved ({ex.Error})", null, ex);
        }
        if (typedHandle is { } typed && document.Handle?.Value != typed.Value)
        {
            throw new OAuthException("invalid_identifier", "the DID document does not claim that handle");
        }
        var handleOfDid = typedHandle ?? await VerifiedHandleAsync(document, cancellationToken).ConfigureAwait(false);
        if (document.PdsEndpoint is not { } pds || !urls.IsAllowed(pds))
        {
            throw new OAuthException(OAuthException.ProtocolViolation, "the DID document names no acceptable PDS");
        }
        var server = await AuthorizationServerOfAsync(pds, cancellationToken).ConfigureAwait(false);
        return new ResolvedAccount(did, handleOfDid, pds, server);
    }

    /// <summary>The PDS's authorization server (from its protected-resource metadata) and that server's metadata.</summary>
    public async Task<AuthorizationServerMetadata> AuthorizationServerOfAsync(Uri pds, CancellationToken cancellationToken = default)
    {
        var resourceUrl = new Uri(pds.GetLeftPart(UriPartial.Authority) + ProtectedResourcePath);
        string issuer;
        using (var resource = await GetJsonAsync(resourceUrl, "the PDS's protected-resource metadata", cancellationToken).ConfigureAwait(false))
        {
            var servers = resource.RootElement.Strings("authorization_servers");
            if (servers.Count == 0)
            {
                throw new OAuthException(OAuthException.ProtocolViolation, "the PDS names no authorization server");
            }
            issuer = servers[0];
        }
        return await AuthorizationServerAsync(issuer, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The metadata of the authorization server <paramref name="issuer"/> (an https origin), issuer checked.</summary>
    public async Task<AuthorizationServerMetadata> AuthorizationServerAsync(string issuer, CancellationToken cancellationToken = default)
    {
        var issuerUrl = urls.Require(issuer, "the authorization server");
        if (issuerUrl.AbsolutePath != "/" || !string.IsNullOrEmpty(issuerUrl.Query))
        {
            throw new OAuthException(OAuthException.ProtocolViolation, "the authorization server's issuer is not an origin");
        }
        var metadataUrl = new Uri(issuerUrl.GetLeftPart(UriPartial.Authority) + AuthorizationServerMetadata.WellKnownPath);
        using var metadata = await GetJsonAsync(metadataUrl, "the authorization server's metadata", cancellationToken).ConfigureAwait(false);
        return AuthorizationServerMetadata.Parse(metadata.RootElement, issuer, urls);
    }

    private async Task<Did> ResolveHandleAsync(Handle handle, CancellationToken cancellationToken)
    {
        try
        {
            var output = await handleResolver.ResolveHandleAsync(handle.Value, cancellationToken).ConfigureAwait(false);
            return Did.TryParse(output.Value.Did, out var did)
                ? did
                : throw new OAuthException(OAuthException.ProtocolViolation, "the handle resolver answered with an invalid DID");
        }
        catch (XrpcException ex) when (ex.Kind == XrpcErrorKind.ServerError && (int?)ex.StatusCode is >= 400 and < 500)
        {
            throw new OAuthException("invalid_identifier", "that handle does not resolve to an account", ex.StatusCode, ex);
        }
        catch (XrpcException ex)
        {
            throw new OAuthException(OAuthException.Unavailable, "the handle could not be resolved now", ex.StatusCode, ex);
        }
    }

    /// <summary>The DID document's handle, when it resolves back to the DID; else null.</summary>
    private async Task<Handle?> VerifiedHandleAsync(DidDocument document, CancellationToken cancellationToken)
    {
        if (document.Handle is not { } claimed) return null;
        try
        {
            return (await ResolveHandleAsync(claimed, cancellationToken).ConfigureAwait(false)).Value == document.Id.Value ? claimed : null;
        }
        catch (OAuthException)
        {
            return null;
        }
    }

    private async Task<System.Text.Json.JsonDocument> GetJsonAsync(Uri url, string what, CancellationToken cancellationToken)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.Accept.ParseAdd("application/json");
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw new OAuthException(OAuthException.ProtocolViolation, $"{what}: HTTP {(int)response.StatusCode}", response.StatusCode);
            }
            var (document, _) = await BoundedJson.ReadAsync(response, what, cancellationToken).ConfigureAwait(false);
            return document ?? throw new OAuthException(OAuthException.ProtocolViolation, $"{what}: empty answer", response.StatusCode);
        }
        catch (HttpRequestException ex)
        {
            throw new OAuthException(OAuthException.Unavailable, $"{what}: not reachable ({ex.HttpRequestError})", null, ex);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new OAuthException(OAuthException.Unavailable, $"{what}: timed out", null, ex);
        }
    }
}
