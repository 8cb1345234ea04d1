using AtSync.AtProto.OAuth;
using AtSync.Core.Settings;
using AtSync.Core.Storage;
using AtSync.Core.Tokens;
using AtSync.Tests.AtProto;
using AtSync.Tests.Infrastructure;
using MySqlConnector;

namespace AtSync.Tests.OAuth;

/// <summary>
/// AtSync's OAuth client as authorization servers see it, for tests without the linking service: its client
/// metadata document and JWKS served on loopback at <c>{LINKING_PUBLIC_URL}oauth/…</c>, and the settings
/// (<c>LINKING_PUBLIC_URL</c>, <c>OAUTH_CLIENT_KEY</c>) that make a QueueWorker that same client. Links users the way
/// the linking service stores them (session kind oauth, sealed tokens and DPoP key, issuer, token endpoint).
/// </summary>
public sealed class OAuthClientHost : IAsyncDisposable
{
    private readonly LoopbackHttpServer _server;

    private OAuthClientHost(LoopbackHttpServer server, string clientKey)
    {
        _server = server;
        ClientKey = clientKey;
        Client = OAuthClientConfiguration.Create(PublicUrl, clientKey);
        server.Handler = async (ctx, request) =>
        {
            if (request.Path == new Uri(Client.MetadataUrl.ToString()).AbsolutePath)
            {
                await LoopbackHttpServer.Json(ctx, 200, ClientMetadata.Document(Client.Identity.ClientId, "AtSync test", _server.BaseUri, Client.RedirectUri,
                    Client.MetadataScope, Client.JwksUrl).ToJsonString());
            }
            else if (request.Path == Client.JwksUrl.AbsolutePath)
            {
                await LoopbackHttpServer.Json(ctx, 200, ClientMetadata.Jwks(Client.SigningKey!).ToJsonString());
            }
            else
            {
                ctx.Response.StatusCode = 404;
            }
        };
    }

    public string PublicUrl => new Uri(_server.BaseUri, "atproto/").ToString();

    public string ClientKey { get; }

    public OAuthClientConfiguration Client { get; }

    public Dictionary<string, string?> Settings => new()
    {
        [OAuthClientConfiguration.PublicUrlName] = PublicUrl,
        [OAuthClientConfiguration.ClientKeyName] = ClientKey,
    };

    public static async Task<OAuthClientHost> StartAsync()
    {
        using var key = DpopKey.Generate();
        return new OAuthClientHost(await LoopbackHttpServer.StartAsync(), key.ExportPrivateKey());
    }

    public sealed record OAuthUser(long UserId, string Did, string Handle, DpopKey Key, string Access, string Refresh);

    /// <summary>A phpBB user linked through OAuth: a session at the network's authorization server and the row the linking service writes.</summary>
    public async Task<OAuthUser> LinkAsync(TestDatabase database, TokenCipher cipher, LoopbackAtNetwork network, long userId, string handle,
        string scope = "atproto repo:net.vza.forum.post")
    {
        var did = network.AddAccount(handle);
        var key = DpopKey.Generate();
        var (access, refresh) = network.Auth.IssueSession(Client.Identity.ClientId, did, key.Thumbprint, scope);
        var tables = database.Tables;
        await database.ExecuteAsync($"INSERT INTO {tables.PhpbbUsers} (user_id, username, username_clean, user_permissions, user_sig) VALUES ({userId}, 'o{userId}', 'o{userId}', '', '')");
        await using var connection = await database.OpenAsync();
        await using var command = new MySqlCommand($"""
            INSERT INTO {tables.Users} (user_id, did, handle, pds_url, access_token, refresh_token, token_expires_at, session_kind, auth_issuer,
                token_endpoint, revocation_endpoint, token_scope, dpop_key, created_at, updated_at)
            VALUES (@id, @did, @handle, @pds, @access, @refresh, @expires, '{SessionKinds.OAuthSql}', @issuer, @token, @revoke, @scope, @key, 0, 0)
            """, connection);
        command.Parameters.AddWithValue("@id", userId);
        command.Parameters.AddWithValue("@did", did);
        command.Parameters.AddWithValue("@handle", handle);
        command.Parameters.AddWithValue("@pds", network.PdsUri.ToString());
        command.Parameters.AddWithValue("@access", cipher.Encrypt(access));
        command.Parameters.AddWithValue("@refresh", cipher.Encrypt(refresh));
        command.Parameters.AddWithValue("@expires", network.Auth.AccessExpiryOf(did).ToUnixTimeSeconds());
        command.Parameters.AddWithValue("@issuer", network.Auth.Issuer);
        command.Parameters.AddWithValue("@token", network.Auth.Issuer + "/oauth/token");
        command.Parameters.AddWithValue("@revoke", network.Auth.Issuer + "/oauth/revoke");
        command.Parameters.AddWithValue("@scope", scope);
        command.Parameters.AddWithValue("@key", cipher.Encrypt(key.ExportPrivateKey()));
        await command.ExecuteNonQueryAsync();
        return new OAuthUser(userId, did, handle, key, access, refresh);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _server.DisposeAsync();
    }
}
