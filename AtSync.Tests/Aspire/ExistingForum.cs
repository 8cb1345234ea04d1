using System.Security.Cryptography;
using AtSync.Core.Forum;
using AtSync.Core.Tokens;
using AtSync.Firehose;
using AtSync.Testing;
using AtSync.Testing.Synthetic;
using AtSync.Tests.Firehose;
using AtSync.Tests.Infrastructure;
using AtSync.Tests.QueueWorker;
using MySqlConnector;

namespace AtSync.Tests.Aspire;

/// <summary>
/// What the AppHost runs against in existing-forum mode, as a test plays it: a database with phpBB's tables on the
/// suite's MariaDB, and loopback peers for the relay, the labeler, the PLC directory and the PDS. <see cref="Settings"/>
/// is the AppHost configuration (connection string and every parameter) that points both services at them.
/// </summary>
public sealed class ExistingForum : IAsyncDisposable
{
    public const string ForumDid = ServiceSettings.ForumDid;
    public const string LabelerDid = "did:plc:labelerlabelerlabeler01";
    /// <summary>The forum account's app password (the loopback PDS has no account for it: the QueueWorker starts and retries the sign-in).</summary>
    public static readonly string ForumAppPassword = "forum-app-password-" + Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8));
    public static readonly string BoardUri = $"at://{ForumDid}/net.vza.forum.board/3kboardgeneral";
    private const string BoardCid = "bafyreib2rxk3rybk3aobmv5cjuql3bm2twh4jo5uxgf5vadynilrvz6qcy";

    private readonly byte[] _tokenKey = RandomNumberGenerator.GetBytes(32);

    private ExistingForum(TestDatabase database, LoopbackRelay relay, LoopbackRelay labeler, LoopbackPlc plc, LoopbackPds pds, ForumFrameFactory frames)
    {
        Database = database;
        Relay = relay;
        Labeler = labeler;
        Plc = plc;
        Pds = pds;
        Frames = frames;
    }

    public TestDatabase Database { get; }
    public LoopbackRelay Relay { get; }
    public LoopbackRelay Labeler { get; }
    public LoopbackPlc Plc { get; }
    public LoopbackPds Pds { get; }
    /// <summary>Builds signed forum commits; the PLC directory gives every test DID its key.</summary>
    public ForumFrameFactory Frames { get; }

    public string TokenKeysJson => $$"""{"v1":"{{Convert.ToBase64String(_tokenKey)}}"}""";

    public static async Task<ExistingForum> StartAsync()
    {
        var server = await MariaDbServer.SharedAsync();
        var database = await server.CreateDatabaseAsync();
        var frames = ForumFrameFactory.Create();
        var relay = await LoopbackRelay.StartAsync(FirehoseStreams.SubscribeReposPath);
        var labeler = await LoopbackRelay.StartAsync(FirehoseStreams.SubscribeLabelsPath);
        var plc = await LoopbackPlc.StartAsync(frames.SigningKey.PublicKey);
        var pds = await LoopbackPds.StartAsync();
        // The forum as phpBB and AtSync's schema leave it: one board mapped to its AT record.
        await FirehoseHarness.PrepareForumAsync(database, BoardUri);
        // phpBB's sessions and config: what the linking service reads to know who is signed in.
        await AtSync.Tests.Linking.PhpbbSessionTables.CreateAsync(database);
        return new ExistingForum(database, relay, labeler, plc, pds, frames);
    }

    /// <summary>The AppHost's configuration: <c>ConnectionStrings:phpbb</c> (existing-forum mode) and every parameter.</summary>
    public Dictionary<string, string> Settings() => new()
    {
        ["ConnectionStrings:phpbb"] = new MySqlConnectionStringBuilder(Database.ConnectionString) { AllowUserVariables = false }.ConnectionString,
        ["Parameters:forum-did"] = ForumDid,
        ["Parameters:forum-pds-url"] = Pds.BaseUri.ToString(),
        ["Parameters:forum-app-password"] = ForumAppPassword,
        ["Parameters:token-encryption-keys"] = TokenKeysJson,
        ["Parameters:relay-url"] = Relay.Url.ToString(),
        ["Parameters:labeler-did"] = LabelerDid,
        ["Parameters:labeler-url"] = Labeler.Url.ToString(),
        ["Parameters:plc-directory-url"] = Plc.BaseUri.ToString(),
        ["Parameters:identity-allowed-hosts"] = "127.0.0.1",
    };

    /// <summary>A forum topic published on the network: the relay sends its signed commit.</summary>
    public string PublishTopic(long seq, string authorDid, string rkey, string subject, string text)
    {
        var record = new ForumPostRecord(text, ForumFrameFactory.Format(DateTimeOffset.UtcNow), new StrongRef(BoardUri, BoardCid), subject, null, null, null);
        var commit = Frames.Post(seq, authorDid, rkey, record, DateTimeOffset.UtcNow);
        Relay.Publish(seq, commit.Frame);
        return commit.Uri;
    }

    public async Task<string?> TopicTitleAsync(string subject)
    {
        await using var connection = await Database.OpenAsync();
        await using var command = new MySqlCommand($"SELECT topic_title FROM {Database.Tables.PhpbbTopics} WHERE topic_title = @s", connection);
        command.Parameters.AddWithValue("@s", subject);
        return await command.ExecuteScalarAsync() as string;
    }

    /// <summary>
    /// A phpBB member linked to an AT account on the loopback PDS with a legacy (app-password) session, its tokens
    /// sealed with the AppHost's <c>token-encryption-keys</c>, as the queue tests link users.
    /// </summary>
    public async Task<string> LinkUserAsync(long userId)
    {
        var did = PhpbbSeed.UserDid(userId);
        var (access, refresh, expires) = Pds.CreateSession(did);
        using var cipher = new TokenCipher(new Dictionary<string, byte[]> { ["v1"] = _tokenKey }, "v1");
        await PhpbbSeed.LinkUserAsync(Database, userId, new PhpbbSeed.Session(did, access, refresh, expires), Pds.BaseUri, cipher);
        return did;
    }

    /// <summary>A new topic as phpBB's submit_post writes it (AtSync's triggers queue it for the QueueWorker).</summary>
    public async Task<long> PostTopicAsync(long userId, string subject, string text)
    {
        var forumId = await Database.ScalarAsync<uint>($"SELECT forum_id FROM {Database.Tables.Forums} LIMIT 1");
        var (_, postId) = await PhpbbSeed.PostTopicAsync(Database, forumId, userId, subject, text, DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        return postId;
    }

    public async ValueTask DisposeAsync()
    {
        await Relay.DisposeAsync();
        await Labeler.DisposeAsync();
        await Plc.DisposeAsync();
        await Pds.DisposeAsync();
        Frames.Dispose();
        await Database.DisposeAsync();
    }
}
