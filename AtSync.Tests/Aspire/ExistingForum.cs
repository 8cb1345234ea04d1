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
        var did = $"did:plc:user{userId:D4}aaaaaaaaaaaaaaaaaaa";
        var (access, refresh, expires) = Pds.CreateSession(did);
        using var cipher = new TokenCipher(new Dictionary<string, byte[]> { ["v1"] = _tokenKey }, "v1");
        await using var connection = await Database.OpenAsync();
        await using (var user = new MySqlCommand($"INSERT INTO {Database.Tables.PhpbbUsers} (user_id, username, username_clean, user_permissions, user_sig) VALUES (@id, @name, @name, '', '')", connection))
        {
            user.Parameters.AddWithValue("@id", userId);
            user.Parameters.AddWithValue("@name", $"u{userId}");
            await user.ExecuteNonQueryAsync();
        }
        await using var link = new MySqlCommand($"""
            INSERT INTO {Database.Tables.Users} (user_id, did, handle, pds_url, access_token, refresh_token, token_expires_at, created_at, updated_at)
            VALUES (@id, @did, @handle, @pds, @access, @refresh, @expires, 0, 0)
            """, connection);
        link.Parameters.AddWithValue("@id", userId);
        link.Parameters.AddWithValue("@did", did);
        link.Parameters.AddWithValue("@handle", $"u{userId}.test");
        link.Parameters.AddWithValue("@pds", Pds.BaseUri.ToString());
        link.Parameters.AddWithValue("@access", cipher.Encrypt(access));
        link.Parameters.AddWithValue("@refresh", cipher.Encrypt(refresh));
        link.Parameters.AddWithValue("@expires", expires.ToUnixTimeSeconds());
        await link.ExecuteNonQueryAsync();
        return did;
    }

    /// <summary>A new topic as phpBB's submit_post writes it (AtSync's triggers queue it for the QueueWorker).</summary>
    public async Task<long> PostTopicAsync(long userId, string subject, string text)
    {
        var t = Database.Tables;
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var forumId = await Database.ScalarAsync<uint>($"SELECT forum_id FROM {t.Forums} LIMIT 1");
        await using var connection = await Database.OpenAsync();
        await using var topic = new MySqlCommand($"""
            INSERT INTO {t.PhpbbTopics} (forum_id, topic_title, topic_poster, topic_time, topic_type, topic_visibility) VALUES (@f, @s, @u, @time, 0, 1)
            """, connection);
        topic.Parameters.AddWithValue("@f", forumId);
        topic.Parameters.AddWithValue("@s", subject);
        topic.Parameters.AddWithValue("@u", userId);
        topic.Parameters.AddWithValue("@time", now);
        await topic.ExecuteNonQueryAsync();
        var topicId = topic.LastInsertedId;
        await using var post = new MySqlCommand($"""
            INSERT INTO {t.PhpbbPosts} (topic_id, forum_id, poster_id, post_time, post_subject, post_text, bbcode_uid, post_visibility)
            VALUES (@t, @f, @u, @time, @s, @text, '', 1)
            """, connection);
        post.Parameters.AddWithValue("@t", topicId);
        post.Parameters.AddWithValue("@f", forumId);
        post.Parameters.AddWithValue("@u", userId);
        post.Parameters.AddWithValue("@time", now);
        post.Parameters.AddWithValue("@s", subject);
        post.Parameters.AddWithValue("@text", text);
        await post.ExecuteNonQueryAsync();
        var postId = post.LastInsertedId;
        await using var first = new MySqlCommand($"UPDATE {t.PhpbbTopics} SET topic_first_post_id = @p, topic_last_post_id = @p WHERE topic_id = @t", connection);
        first.Parameters.AddWithValue("@p", postId);
        first.Parameters.AddWithValue("@t", topicId);
        await first.ExecuteNonQueryAsync();
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
