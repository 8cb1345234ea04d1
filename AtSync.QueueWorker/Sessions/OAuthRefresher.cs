using AtSync.AtProto.OAuth;
using AtSync.Core.Settings;
using AtSync.QueueWorker.Delivery;
using Microsoft.Extensions.Options;

namespace AtSync.QueueWorker.Sessions;

/// <summary>
/// Refreshes OAuth sessions at their authorization server's token endpoint, DPoP-signed with the session's key and
/// authenticated as the client the session was issued to (<see cref="OAuthClientConfiguration"/>). Shares the PDS
/// clients' HTTP handler and DPoP nonce cache (no transparent retries: a retried refresh would spend the token twice).
/// </summary>
public sealed class OAuthRefresher : IDisposable
{
    private readonly OAuthClientConfiguration? _client;
    private readonly OAuthClient? _oauth;

    public OAuthRefresher(IOptions<OAuthClientOptions> options, PdsClients pds, DpopNonceCache nonces, TimeProvider time)
    {
        var o = options.Value;
        if (!o.IsConfigured) return;
        _client = OAuthClientConfiguration.Create(o.PublicUrl, o.ClientKey);
        _oauth = new OAuthClient(pds.Http, _client.Identity, nonces, time);
    }

    public bool IsConfigured => _oauth is not null;

    /// <summary>Spends <paramref name="refreshToken"/>; throws <see cref="OAuthException"/> (invalid_grant: sign in again).</summary>
    public Task<TokenSet> RefreshAsync(Uri tokenEndpoint, string issuer, string refreshToken, DpopKey dpopKey, CancellationToken cancellationToken) =>
        (_oauth ?? throw new InvalidOperationException("The OAuth client is not configured."))
            .RefreshAsync(tokenEndpoint, issuer, refreshToken, dpopKey, cancellationToken);

    public void Dispose() => _client?.Dispose();
}
