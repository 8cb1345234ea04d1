using AtSync.AtProto.Crypto;
using AtSync.Core.Forum;
using AtSync.Core.Sync;
using AtSync.Firehose;
using AtSync.Firehose.Import;
using AtSync.Testing;
using AtSync.Testing.Repositories;
using AtSync.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Options;

namespace AtSync.Tests.Firehose.Import;

/// <summary>One repository's <c>atproto_repos</c> row.</summary>
public sealed record RepoRow(string Status, string Rev, string DataCid, string Reason, int Attempts, long RetryAt, string RequestedBy, long RecordsImported);

/// <summary>
/// The Firehose (as deployed, in-process) against a test database, with a loopback PLC directory whose DID documents
/// name the <see cref="LoopbackRepoHost"/> as each author's PDS, a relay publishing what the test gives it, and
/// generated forum repositories served by <c>getRepo</c>. The import worker is off unless asked for (tests then claim
/// and run imports themselves).
/// </summary>
public sealed class ImportHarness : IAsyncDisposable
{
    public static readonly string BoardUri = $"at://{FirehoseHarness.ForumDid}/net.vza.forum.board/3kboardgeneral";
    public static readonly StrongRef Board = new(BoardUri, "bafyreib2rxk3rybk3aobmv5cjuql3bm2twh4jo5uxgf5vadynilrvz6qcy");
    public static readonly DateTimeOffset T0 = new(2026, 6, 1, 9, 0, 0, TimeSpan.Zero);

    private readonly SigningKey _key;
    private readonly List<MetricCollector<long>> _collectors = [];

    private ImportHarness(TestDatabase database, LoopbackPlc plc, LoopbackRepoHost pds, LoopbackRelay relay, FirehoseHarness firehose, SigningKey key)
    {
        Database = database;
        Plc = plc;
        Pds = pds;
        Relay = relay;
        Firehose = firehose;
        _key = key;
        var factory = firehose.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        Imports = Collect(factory, ImportMetrics.ImportsName);
        ImportRecords = Collect(factory, ImportMetrics.ImportRecordsName);
    }

    public TestDatabase Database { get; }
    public LoopbackPlc Plc { get; }
    public LoopbackRepoHost Pds { get; }
    public LoopbackRelay Relay { get; }
    public FirehoseHarness Firehose { get; }
    public MetricCollector<long> Imports { get; }
    public MetricCollector<long> ImportRecords { get; }

    public RepoImporter Importer => Firehose.Services.GetRequiredService<RepoImporter>();
    public RepoStates States => Firehose.Services.GetRequiredService<RepoStates>();
    public ImportOptions Options => Firehose.Services.GetRequiredService<IOptions<ImportOptions>>().Value;

    public static async Task<ImportHarness> StartAsync(bool worker = false, IDictionary<string, string?>? extra = null, TestDatabase? database = null)
    {
        database ??= await (await MariaDbServer.SharedAsync()).CreateDatabaseAsync();
        await FirehoseHarness.PrepareForumAsync(database, BoardUri);
        var key = SigningKey.Generate(KeyCurve.Secp256k1);
        var plc = await LoopbackPlc.StartAsync(key.PublicKey);
        var pds = await LoopbackRepoHost.StartAsync();
        var relay = await LoopbackRelay.StartAsync(FirehoseStreams.SubscribeReposPath);
        var settings = new Dictionary<string, string?>
        {
            ["Import:WorkerEnabled"] = worker ? "true" : "false",
            ["Import:PollInterval"] = "00:00:00.200",
            ["Import:AllowedHosts:0"] = "127.0.0.1",
            ["Import:BatchSize"] = "400",
        };
        foreach (var (k, v) in extra ?? new Dictionary<string, string?>()) settings[k] = v;
        var firehose = await FirehoseHarness.StartAsync(database, relay.Url, plcUrl: plc.BaseUri, extra: settings);
        return new ImportHarness(database, plc, pds, relay, firehose, key);
    }

    /// <summary>A new repository for <paramref name="did"/>, signed with the key its DID document names, hosted on the loopback PDS.</summary>
    public ForumRepository Repository(string did)
    {
        var repo = new ForumRepository(did, SigningKey.Generate(KeyCurve.Secp256k1), Board, T0);
        Plc.Keys[did] = repo.Key.PublicKey;
        Plc.Pds[did] = Pds.BaseUri;
        Pds.Repos[did] = repo.ExportCar;
        return repo;
    }

    public async Task RequestAsync(string did, ResyncRequester requester = ResyncRequester.Operator)
    {
        await using var connection = await Database.OpenAsync();
        await ResyncRequests.RequestAsync(connection, null, Database.Tables, did, requester, DateTimeOffset.UtcNow.ToUnixTimeSeconds(), CancellationToken.None);
    }

    /// <summary>Requests, claims and runs one import of <paramref name="did"/>, as the worker would.</summary>
    public async Task<ImportResult> ImportAsync(string did)
    {
        await RequestAsync(did);
        return await RunClaimedAsync(did);
    }

    /// <summary>Claims <paramref name="did"/> (it must be due) and runs its import.</summary>
    public async Task<ImportResult> RunClaimedAsync(string did)
    {
        var claimed = await States.ClaimAsync(1, DateTimeOffset.UtcNow.ToUnixTimeSeconds(), Options.Lease, CancellationToken.None, onlyDid: did);
        var repo = Assert.Single(claimed);
        return await Importer.RunAsync(repo, null, CancellationToken.None);
    }

    public async Task<RepoRow?> RowAsync(string did)
    {
        await using var connection = await Database.OpenAsync();
        await using var command = new MySqlConnector.MySqlCommand($"""
            SELECT status, rev, data_cid, reason, attempts, retry_at, requested_by, records_imported FROM {Database.Tables.Repos} WHERE did = @did
            """, connection);
        command.Parameters.AddWithValue("@did", did);
        await using var reader = await command.ExecuteReaderAsync();
        if (!await reader.ReadAsync()) return null;
        return new RepoRow(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), Convert.ToInt32(reader.GetValue(4)),
            Convert.ToInt64(reader.GetValue(5)), reader.GetString(6), Convert.ToInt64(reader.GetValue(7)));
    }

    public async Task<RepoRow> WaitForAsync(string did, Func<RepoRow, bool> condition, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(90));
        RepoRow? row = null;
        while (DateTime.UtcNow < deadline)
        {
            row = await RowAsync(did);
            if (row is not null && condition(row)) return row;
            await Task.Delay(50);
        }
        throw new TimeoutException($"{did}: the condition was not reached (last {row})");
    }

    private MetricCollector<long> Collect(System.Diagnostics.Metrics.IMeterFactory factory, string name)
    {
        var collector = new MetricCollector<long>(factory, FirehoseMetrics.MeterName, name);
        _collectors.Add(collector);
        return collector;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var collector in _collectors) collector.Dispose();
        await Firehose.DisposeAsync();
        await Relay.DisposeAsync();
        await Pds.DisposeAsync();
        await Plc.DisposeAsync();
        _key.Dispose();
        await Database.DisposeAsync();
    }
}
