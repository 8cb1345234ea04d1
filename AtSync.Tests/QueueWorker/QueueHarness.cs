using System.Collections.Concurrent;
using AtSync.Core.Settings;
using AtSync.Core.Storage;
using AtSync.Core.Tokens;
using AtSync.QueueWorker;
using AtSync.QueueWorker.Delivery;
using AtSync.QueueWorker.Queue;
using AtSync.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using MySqlConnector;

namespace AtSync.Tests.QueueWorker;

/// <summary>
/// The queue worker's services as the service registers them (<c>AddAtSyncDatabase</c> + <c>AddQueueWorker</c>), over a
/// fresh MariaDB database with phpBB's tables and AtSync's schema, a loopback PDS, and a fake clock. Tests drive
/// batches directly (<see cref="RunBatchAsync"/>) and seed phpBB rows as phpBB would write them.
/// </summary>
public sealed partial class QueueHarness : IAsyncDisposable
{
    public const string ForumBoardUri = "at://" + ServiceSettings.ForumDid + "/net.vza.forum.board/3kboardaaaaa2";
    public const string ForumBoardCid = "bafyreiboardboardboardboardboardboardboardboardboardboardbo";
    public static readonly DateTimeOffset Start = new(2026, 11, 23, 9, 0, 0, TimeSpan.Zero);

    private readonly ServiceProvider _services;
    private int _nextUserId = 100;

    private QueueHarness(TestDatabase database, LoopbackPds pds, FakeTimeProvider time, ServiceProvider services, string keysJson, CapturingLoggerProvider logs)
    {
        Database = database;
        Pds = pds;
        Time = time;
        _services = services;
        KeysJson = keysJson;
        Logs = logs;
    }

    public TestDatabase Database { get; }
    public LoopbackPds Pds { get; }
    public FakeTimeProvider Time { get; }
    public string KeysJson { get; }
    public CapturingLoggerProvider Logs { get; }
    public AtSyncTables Tables => Database.Tables;
    public QueueProcessor Processor => _services.GetRequiredService<QueueProcessor>();
    public QueueStore Store => _services.GetRequiredService<QueueStore>();
    public TokenCipher Cipher => _services.GetRequiredService<TokenCipher>();
    public RateBudget Budget => _services.GetRequiredService<RateBudget>();
    public T Get<T>() where T : notnull => _services.GetRequiredService<T>();

    public static async Task<QueueHarness> CreateAsync(Dictionary<string, string?>? settings = null, Func<double>? jitter = null, MariaDbServer? server = null)
    {
        server ??= await MariaDbServer.SharedAsync();
        var database = await server.CreateDatabaseAsync();
        var time = new FakeTimeProvider(Start);
        var pds = await LoopbackPds.StartAsync(time);
        var keys = ServiceSettings.NewTokenKeysJson();
        var config = ServiceSettings.For(database, keys);
        config[$"{QueueWorkerOptions.Section}:RequestTimeout"] = "00:00:05";
        config[SettingNames.ForumPdsUrl] = pds.BaseUri.ToString(); // the forum account lives on the same loopback PDS
        foreach (var (k, v) in settings ?? []) config[k] = v;

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        // Environment names use '__' for sections; in-memory configuration uses ':'.
        builder.Configuration.AddInMemoryCollection(config.Select(c => KeyValuePair.Create(c.Key.Replace("__", ":", StringComparison.Ordinal), c.Value)));
        var logs = new CapturingLoggerProvider();
        builder.Logging.AddProvider(logs).SetMinimumLevel(LogLevel.Debug);
        builder.Services.AddSingleton<TimeProvider>(time);
        builder.AddAtSyncDatabase();
        builder.AddForumSettings();
        builder.AddQueueWorker();
        if (jitter is not null) builder.Services.AddSingleton(new RetrySchedule(jitter));
        var services = builder.Services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
        await services.GetRequiredService<SchemaMigrator>().MigrateAsync(SchemaMigrations.All, CancellationToken.None);

        var harness = new QueueHarness(database, pds, time, services, keys, logs);
        await harness.ExecuteAsync($"INSERT INTO {database.Tables.PhpbbForums} (forum_id, forum_name, forum_parents, forum_desc, forum_rules, forum_type) VALUES (1, 'General', '', '', '', 1)");
        await harness.ExecuteAsync($"INSERT INTO {database.Tables.Forums} (forum_id, at_uri, at_cid, slug) VALUES (1, '{ForumBoardUri}', '{ForumBoardCid}', 'general')");
        return harness;
    }

    /// <summary>A phpBB user linked to an AT account on the loopback PDS with a fresh session.</summary>
    public async Task<LinkedUser> LinkUserAsync(string? did = null, TimeSpan? accessLifetime = null, bool storeExpiry = true, TokenCipher? sealWith = null)
    {
        var userId = Interlocked.Increment(ref _nextUserId);
        did ??= PhpbbSeed.UserDid(userId);
        var (access, refresh, expires) = Pds.CreateSession(did, accessLifetime);
        await PhpbbSeed.LinkUserAsync(Database, userId, new PhpbbSeed.Session(did, access, refresh, storeExpiry ? expires : null), Pds.BaseUri, sealWith ?? Cipher);
        return new LinkedUser(userId, did, access, refresh);
    }

    /// <summary>An unlinked phpBB user.</summary>
    public async Task<long> PlainUserAsync()
    {
        var userId = Interlocked.Increment(ref _nextUserId);
        await ExecuteAsync($"INSERT INTO {Tables.PhpbbUsers} (user_id, username, username_clean, user_permissions, user_sig) VALUES ({userId}, 'p{userId}', 'p{userId}', '', '')");
        return userId;
    }

    /// <summary>A new topic as phpBB's submit_post writes it: the topic, its first post, then the topic's first/last post ids.</summary>
    public Task<(long TopicId, long PostId)> PostTopicAsync(long userId, string subject, string postText, int topicType = 0, long forumId = 1,
        long? postTime = null, string bbcodeUid = "") =>
        PhpbbSeed.PostTopicAsync(Database, forumId, userId, subject, postText, postTime ?? Time.GetUtcNow().ToUnixTimeSeconds(), topicType, bbcodeUid);

    public Task<long> PostReplyAsync(long topicId, long userId, string postText, long forumId = 1) =>
        PhpbbSeed.PostReplyAsync(Database, topicId, forumId, userId, "Re: topic", postText, Time.GetUtcNow().ToUnixTimeSeconds());

    public Task<QueueProcessor.BatchResult> RunBatchAsync() => Processor.ProcessBatchAsync(CancellationToken.None);

    /// <summary>Runs batches until one claims nothing (bounded).</summary>
    public async Task<int> DrainAsync(int maxBatches = 200)
    {
        var total = 0;
        for (var i = 0; i < maxBatches; i++)
        {
            var result = await RunBatchAsync();
            if (result.Claimed == 0) return total;
            total += result.Claimed;
        }
        throw new InvalidOperationException($"The queue did not drain within {maxBatches} batches.");
    }

    public sealed record QueueRowState(long Id, string Operation, string Status, int Attempts, string Rkey, long NextRetryAt, string? LastError, long? LocalId);

    public async Task<IReadOnlyList<QueueRowState>> QueueRowsAsync()
    {
        await using var connection = await Database.OpenAsync();
        await using var command = new MySqlCommand($"SELECT id, operation, status, attempts, rkey, next_retry_at, last_error, local_id FROM {Tables.Queue} ORDER BY id", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<QueueRowState>();
        while (await reader.ReadAsync())
        {
            rows.Add(new QueueRowState(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetInt32(3), reader.GetString(4),
                reader.GetInt64(5), reader.IsDBNull(6) ? null : reader.GetString(6), reader.IsDBNull(7) ? null : reader.GetInt64(7)));
        }
        return rows;
    }

    public sealed record PostState(long PostId, string? AtUri, string? AtCid, string AuthorDid, bool IsTopicStarter, string SyncStatus);

    public async Task<PostState?> AtprotoPostAsync(long postId)
    {
        await using var connection = await Database.OpenAsync();
        await using var command = new MySqlCommand($"SELECT post_id, at_uri, at_cid, author_did, is_topic_starter, sync_status FROM {Tables.Posts} WHERE post_id = {postId}", connection);
        await using var reader = await command.ExecuteReaderAsync();
        if (!await reader.ReadAsync()) return null;
        return new PostState(reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2),
            reader.GetString(3), reader.GetBoolean(4), reader.GetString(5));
    }

    public sealed record StoredTokens(string Access, string Refresh, long? ExpiresAt);

    public async Task<StoredTokens> StoredTokensAsync(long userId)
    {
        await using var connection = await Database.OpenAsync();
        await using var command = new MySqlCommand($"SELECT access_token, refresh_token, token_expires_at FROM {Tables.Users} WHERE user_id = {userId}", connection);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        return new StoredTokens(reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetInt64(2));
    }

    public async Task ExecuteAsync(string sql)
    {
        await using var connection = await Database.OpenAsync();
        await using var command = new MySqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    public Task<T> ScalarAsync<T>(string sql) => Database.ScalarAsync<T>(sql);

    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync();
        await Pds.DisposeAsync();
        await Database.DisposeAsync();
    }
}

public sealed record LinkedUser(long UserId, string Did, string AccessToken, string RefreshToken);

/// <summary>Keeps every formatted log line (with its exception) for assertions, e.g. that no secret was logged.</summary>
public sealed class CapturingLoggerProvider : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyList<string> Lines => [.. _lines];

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _lines);

    public void Dispose() { }

    private sealed class Logger(string category, ConcurrentQueue<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)}{(exception is null ? "" : " " + exception)}");
    }
}
