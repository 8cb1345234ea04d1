using System.Collections.Concurrent;
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

    public PdsClients(IOptions<QueueWorkerOptions> options, TimeProvider time)
    {
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            MaxConnectionsPerServer = 64,
            ConnectTimeout = TimeSpan.FromSeconds(10),
            AllowAutoRedirect = false,
        };
        _http = new HttpClient(handler) { Timeout = options.Value.RequestTimeout };
        _time = time;
    }

    public XrpcClient For(Uri pds) =>
        _clients.GetOrAdd(pds.GetLeftPart(UriPartial.Path), static (_, state) => new XrpcClient(state.Http, state.Time).WithService(state.Pds),
            (Http: _http, Time: _time, Pds: pds));

    public void Dispose() => _http.Dispose();
}
