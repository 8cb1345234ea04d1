using System.Net;
using DnsClient;
using DnsClient.Protocol;

namespace AtSync.AtProto.Identity;

/// <summary>
/// The DNS answers identity lookups use: addresses of hosts to connect to (checked by <see cref="IdentityHttpHandler"/>)
/// and TXT records (<c>_atproto.&lt;handle&gt;</c>). Asks <see cref="IdentityNetworkOptions.NameServer"/> when set
/// (over DnsClient, no cache: answers are attacker-controlled and short-lived anyway), else the system's resolver.
/// </summary>
public sealed class IdentityDns
{
    /// <summary>TXT strings longer than this, or more records than <see cref="MaxTxtRecords"/>, are not read.</summary>
    public const int MaxTxtLength = 1024;
    public const int MaxTxtRecords = 16;

    private readonly LookupClient _client;
    private readonly bool _ownNameServer;

    public IdentityDns(IdentityNetworkOptions? options = null)
    {
        options ??= new IdentityNetworkOptions();
        var clientOptions = options.NameServer is { } server ? new LookupClientOptions(new NameServer(server)) : new LookupClientOptions();
        clientOptions.UseCache = false;
        clientOptions.Timeout = options.FetchTimeout;
        clientOptions.Retries = 1;
        clientOptions.ThrowDnsErrors = false;
        clientOptions.ContinueOnDnsError = false;
        _client = new LookupClient(clientOptions);
        _ownNameServer = options.NameServer is not null;
    }

    /// <summary>The addresses of <paramref name="host"/> (an IP literal is itself); empty when the name does not exist.</summary>
    public async Task<IPAddress[]> AddressesAsync(string host, CancellationToken cancellationToken)
    {
        var name = host.Trim('[', ']');
        if (IPAddress.TryParse(name, out var literal)) return [literal];
        if (!_ownNameServer)
        {
            try
            {
                return await Dns.GetHostAddressesAsync(name, cancellationToken).ConfigureAwait(false);
            }
            catch (System.Net.Sockets.SocketException)
            {
                return [];
            }
        }
        var v4 = _client.QueryAsync(name, QueryType.A, QueryClass.IN, cancellationToken);
        var v6 = _client.QueryAsync(name, QueryType.AAAA, QueryClass.IN, cancellationToken);
        var answers = (await v4.ConfigureAwait(false)).Answers.Concat((await v6.ConfigureAwait(false)).Answers);
        return [.. answers.OfType<AddressRecord>().Select(r => r.Address)];
    }

    /// <summary>The TXT strings at <paramref name="name"/> (each record's strings joined); empty when there are none.</summary>
    public async Task<IReadOnlyList<string>> TxtAsync(string name, CancellationToken cancellationToken)
    {
        var response = await _client.QueryAsync(name, QueryType.TXT, QueryClass.IN, cancellationToken).ConfigureAwait(false);
        if (response.HasError) return [];
        return [.. response.Answers.TxtRecords().Take(MaxTxtRecords).Select(r => string.Concat(r.Text)).Where(t => t.Length <= MaxTxtLength)];
    }
}
