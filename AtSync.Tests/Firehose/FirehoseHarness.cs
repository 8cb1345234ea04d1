using System.Globalization;
using AtSync.Core.Settings;
using AtSync.Core.Storage;
using AtSync.Firehose;
using AtSync.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MySqlConnector;

namespace AtSync.Tests.Firehose;

/// <summary>
/// The Firehose as Program.cs composes it (service defaults, database, AddFirehose), in-process on 127.0.0.1:0,
/// against a test database and loopback peers; metric collectors attached before it starts.
/// </summary>
public sealed class FirehoseHarness : IAsyncDisposable
{
    public const string ForumDid = ServiceSettings.ForumDid;
    public const string LabelerDid = "did:plc:labelerlabelerlabelerlab";

    /// <summary>The labeler's <c>#atproto_label</c> key: the harness's PLC serves it, and labels in tests are signed with it.</summary>
    public static readonly AtSync.AtProto.Crypto.SigningKey LabelerKey = AtSync.AtProto.Crypto.SigningKey.Generate(AtSync.AtProto.Crypto.KeyCurve.P256);

    /// <summary>The loopback hosts the harness's peers use: allowed for identity fetches (IDENTITY_ALLOWED_HOSTS).</summary>
    public const string AllowedHosts = "127.0.0.1";

    private readonly WebApplication _app;
    private readonly List<IDisposable> _collectors = [];
    private bool _ownDns;

    private FirehoseHarness(WebApplication app, TestDatabase database, LoopbackPlc? plc, AtSync.Testing.LoopbackDns dns)
    {
        _app = app;
        Database = database;
        Plc = plc;
        Dns = dns;
        var factory = app.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        Events = Collect<long>(factory, FirehoseMetrics.EventsName);
        ForumOps = Collect<long>(factory, FirehoseMetrics.ForumOpsName);
        Skipped = Collect<long>(factory, FirehoseMetrics.SkippedName);
        DecodeErrors = Collect<long>(factory, FirehoseMetrics.DecodeErrorsName);
        Reconnects = Collect<long>(factory, FirehoseMetrics.ReconnectsName);
        Labels = Collect<long>(factory, FirehoseMetrics.LabelsName);
        BatchCommits = Collect<double>(factory, FirehoseMetrics.BatchCommitName);
        FrameToCommit = Collect<double>(factory, FirehoseMetrics.FrameToCommitName);
        Lag = Collect<double>(factory, FirehoseMetrics.LagName);
        CommitsRejected = Collect<long>(factory, FirehoseMetrics.CommitsRejectedName);
        CommitsHeld = Collect<long>(factory, FirehoseMetrics.CommitsHeldName);
        CommitsReleased = Collect<long>(factory, FirehoseMetrics.CommitsReleasedName);
        CommitsDropped = Collect<long>(factory, FirehoseMetrics.CommitsDroppedName);
        ResyncsRequested = Collect<long>(factory, FirehoseMetrics.ResyncsRequestedName);
    }

    public TestDatabase Database { get; }

    /// <summary>The PLC directory the harness started for <c>signingKey</c> (null when the test gave its own or none).</summary>
    public LoopbackPlc? Plc { get; }

    /// <summary>The DNS server the Firehose asks (IDENTITY_DNS_SERVER): handles' <c>_atproto</c> TXT records and hosts' addresses.</summary>
    public AtSync.Testing.LoopbackDns Dns { get; }

    public IServiceProvider Services => _app.Services;

    public Uri BaseAddress => new(_app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

    public MetricCollector<long> Events { get; }
    public MetricCollector<long> ForumOps { get; }
    public MetricCollector<long> Skipped { get; }
    public MetricCollector<long> DecodeErrors { get; }
    public MetricCollector<long> Reconnects { get; }
    public MetricCollector<long> Labels { get; }
    public MetricCollector<double> BatchCommits { get; }
    public MetricCollector<double> FrameToCommit { get; }
    public MetricCollector<double> Lag { get; }
    public MetricCollector<long> CommitsRejected { get; }
    public MetricCollector<long> CommitsHeld { get; }
    public MetricCollector<long> CommitsReleased { get; }
    public MetricCollector<long> CommitsDropped { get; }
    public MetricCollector<long> ResyncsRequested { get; }

    /// <summary>The <c>atproto_repos</c> row of <paramref name="did"/>: status and reason (null when absent).</summary>
    public async Task<(string Status, string Reason, string Rev)?> RepoAsync(string did)
    {
        await using var connection = await Database.OpenAsync();
        await using var command = new MySqlCommand($"SELECT status, reason, rev FROM {Tables.Repos} WHERE did = @did", connection);
        command.Parameters.AddWithValue("@did", did);
        await using var reader = await command.ExecuteReaderAsync();
        return await reader.ReadAsync() ? (reader.GetString(0), reader.GetString(1), reader.GetString(2)) : null;
    }

    /// <summary>The seqs held for <paramref name="did"/>, in order.</summary>
    public async Task<List<long>> HeldAsync(string did)
    {
        await using var connection = await Database.OpenAsync();
        await using var command = new MySqlCommand($"SELECT seq FROM {Tables.HeldCommits} WHERE did = @did ORDER BY seq", connection);
        command.Parameters.AddWithValue("@did", did);
        var seqs = new List<long>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) seqs.Add(Convert.ToInt64(reader.GetValue(0), CultureInfo.InvariantCulture));
        return seqs;
    }

    /// <summary>Polls <paramref name="condition"/> until true (bounded); throws with <paramref name="what"/> when it never is.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (DateTime.UtcNow < deadline)
        {
            if (await condition()) return;
            await Task.Delay(50);
        }
        throw new TimeoutException(what);
    }

    public AtSyncTables Tables => Database.Tables;

    /// <summary>Sum of a counter's measurements whose tag <paramref name="tag"/> equals <paramref name="value"/> (all when null).</summary>
    public static long Sum(MetricCollector<long> collector, string? tag = null, string? value = null) =>
        collector.GetMeasurementSnapshot()
            .Where(m => tag is null || (m.Tags.TryGetValue(tag, out var v) && Equals(v?.ToString(), value)))
            .Sum(m => m.Value);

    /// <summary>
    /// Starts the Firehose. Signature verification is on, as deployed: pass the frame factory's
    /// <paramref name="signingKey"/> (and no <paramref name="plcUrl"/>) to have the harness serve every test DID's
    /// document with that key as its <c>#atproto</c> key from a <see cref="LoopbackPlc"/>.
    /// </summary>
    public static async Task<FirehoseHarness> StartAsync(
        TestDatabase database, Uri relayUrl, Uri? labelerUrl = null, Uri? plcUrl = null, IDictionary<string, string?>? extra = null,
        AtSync.AtProto.Crypto.PublicKey? signingKey = null, AtSync.Testing.LoopbackDns? dns = null)
    {
        // A DNS of the test's own, never the machine's: handles resolve only where the test says.
        var ownDns = dns is null;
        dns ??= await AtSync.Testing.LoopbackDns.StartAsync();
        var plc = plcUrl is null && signingKey is not null ? await LoopbackPlc.StartAsync(signingKey) : null;
        plc?.LabelKeys.TryAdd(LabelerDid, LabelerKey.PublicKey);
        plcUrl ??= plc?.BaseUri;
        var settings = new Dictionary<string, string?>
        {
            // As deployed: no "Allow User Variables", so a parameter the code forgets to bind fails instead of reading NULL.
            ["ConnectionStrings:phpbb"] = new MySqlConnectionStringBuilder(database.ConnectionString) { AllowUserVariables = false }.ConnectionString,
            [SettingNames.TablePrefix] = database.Prefix,
            [SettingNames.ForumDid] = ForumDid,
            [SettingNames.ForumPdsUrl] = "http://127.0.0.1:9",
            [SettingNames.RelayUrl] = relayUrl.ToString(),
            [SettingNames.LabelerDid] = LabelerDid,
            [SettingNames.LabelerUrl] = (labelerUrl ?? new Uri("ws://127.0.0.1:9")).ToString(),
            [SettingNames.PlcDirectoryUrl] = (plcUrl ?? new Uri("http://127.0.0.1:9")).ToString(),
            [SettingNames.IdentityAllowedHosts] = AllowedHosts,
            [SettingNames.IdentityDnsServer] = dns.Setting,
            // The suite's streams come from test DIDs that are not linked: without this their posts would wait in
            // phpBB's moderation queue (the default). The posting-policy tests set it themselves.
            [PostingOptions.ModerationSetting] = "none",
            ["Firehose:LabelsEnabled"] = labelerUrl is null ? "false" : "true",
            ["Firehose:ReconnectInitialDelay"] = "00:00:00.100",
            ["Firehose:ReconnectMaxDelay"] = "00:00:01",
            ["Firehose:IdleTimeout"] = "00:00:02",
            ["Firehose:ConnectTimeout"] = "00:00:05",
            ["Firehose:BatchMaxDelay"] = "00:00:00.100",
            ["Firehose:LabelExpirySweep"] = "00:00:00.500",
            // Generous for loopback peers on a loaded machine (a late key parks its author); isolation tests set their own.
            ["Firehose:KeyDeadline"] = "00:00:10",
            ["Firehose:ReleasePollInterval"] = "00:00:00.200",
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>()) settings[key] = value;

        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production", ApplicationName = "AtSync.Firehose" });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.AddServiceDefaults();
        builder.AddAtSyncDatabase();
        builder.AddFirehose();
        var app = builder.Build();
        app.MapDefaultEndpoints();
        var harness = new FirehoseHarness(app, database, plc, dns) { _ownDns = ownDns };
        await app.StartAsync();
        return harness;
    }

    /// <summary>Applies the schema (core + firehose migrations) and maps one phpBB forum to a board AT-URI.</summary>
    public static async Task<uint> PrepareForumAsync(TestDatabase database, string boardUri, string name = "General")
    {
        await using (var dataSource = new MySqlDataSource(database.ConnectionString))
        {
            await new SchemaMigrator(dataSource, database.Tables, TimeProvider.System, NullLogger<SchemaMigrator>.Instance)
                .MigrateAsync(SchemaMigrations.All, CancellationToken.None);
        }
        await using var connection = await database.OpenAsync();
        await using var forum = new MySqlCommand($"""
            INSERT INTO {database.Tables.PhpbbForums} (forum_name, forum_parents, forum_desc, forum_rules, forum_type) VALUES (@name, '', '', '', 1)
            """, connection);
        forum.Parameters.AddWithValue("@name", name);
        await forum.ExecuteNonQueryAsync();
        var forumId = (uint)forum.LastInsertedId;
        await using var map = new MySqlCommand($"INSERT INTO {database.Tables.Forums} (forum_id, at_uri, at_cid, slug) VALUES (@id, @uri, '', 'general')", connection);
        map.Parameters.AddWithValue("@id", forumId);
        map.Parameters.AddWithValue("@uri", boardUri);
        await map.ExecuteNonQueryAsync();
        return forumId;
    }

    public async Task<long?> CursorAsync(string service)
    {
        await using var connection = await Database.OpenAsync();
        await using var command = new MySqlCommand($"SELECT cursor_value FROM {Tables.Cursors} WHERE service = @s", connection);
        command.Parameters.AddWithValue("@s", service);
        var value = await command.ExecuteScalarAsync();
        return value is null or DBNull ? null : Convert.ToInt64(value, CultureInfo.InvariantCulture);
    }

    /// <summary>Waits until the stream's stored cursor reaches <paramref name="seq"/>.</summary>
    public async Task WaitForCursorAsync(string service, long seq, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        long? last = null;
        while (DateTime.UtcNow < deadline)
        {
            last = await CursorAsync(service);
            if (last >= seq) return;
            await Task.Delay(50);
        }
        throw new TimeoutException($"cursor '{service}' did not reach {seq} (last {last?.ToString(CultureInfo.InvariantCulture) ?? "none"})");
    }

    public Task StopAsync() => _app.StopAsync();

    private MetricCollector<T> Collect<T>(System.Diagnostics.Metrics.IMeterFactory factory, string instrument) where T : struct
    {
        var collector = new MetricCollector<T>(factory, FirehoseMetrics.MeterName, instrument);
        _collectors.Add(collector);
        return collector;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            await _app.StopAsync(timeout.Token);
        }
        finally
        {
            foreach (var collector in _collectors) collector.Dispose();
            await _app.DisposeAsync();
            if (Plc is not null) await Plc.DisposeAsync();
            if (_ownDns) await Dns.DisposeAsync();
        }
    }
}
