using System.Collections.Concurrent;
using AtSync.AtProto.OAuth;
using AtSync.AtProto.Xrpc;
using Microsoft.Extensions.Options;

namespace AtSync.QueueWorker.Delivery;

/// <summary>
/// XRPC clients for users' PDSes over one pooled HTTP handler. Deliberately not an IHttpClientFactory client: the
/// service defaults add a retrying resilience handler to those, and a transparent retry of a write would undo the
/// queue's own retry schedule, rate budget and duplicate-create protection.
/// </summary>
public sealed class PdsClients : IDisposable
{
    private readonly HttpClient _http;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, XrpcClient> _clients = new(StringComparer.Ordinal);

    public PdsClients(IOptions<QueueWorkerOptions> options, DpopNonceCache nonces, TimeProvider time)
    {
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            MaxConnectionsPerServer = 64,
            ConnectTimeout = TimeSpan.FromSeconds(10),
            AllowAutoRedirect = false,
        };
        // OAuth sessions' requests carry their DPoP key; the DPoP handler signs them and keeps each server's nonce.
        _http = new HttpClient(new DpopHandler(nonces, time) { InnerHandler = handler }) { Timeout = options.Value.RequestTimeout };
        _time = time;
    }

    /// <summary>The shared client (token-endpoint calls of OAuth refreshes go through it too).</summary>
    public HttpClient Http => _http;

    public XrpcClient For(Uri pds) =>
        _clients.GetOrAdd(pds.GetLeftPart(UriPartial.Path), static (_, state) => new XrpcClient(state.Http, state.Time).WithService(state.Pds),
            (Http: _http, Time: _time, Pds: pds));

    public void Dispose() => _http.Dispose();
}
