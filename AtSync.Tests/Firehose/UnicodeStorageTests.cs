using AtSync.Core.Forum;
using AtSync.Core.Forum.Text;
using AtSync.Firehose;
using AtSync.Testing;
using AtSync.Testing.Synthetic;
using AtSync.QueueWorker.Records;
using AtSync.Tests.Infrastructure;
using MySqlConnector;
using static AtSync.Tests.Firehose.ForumStreamTests;

namespace AtSync.Tests.Firehose;

/// <summary>
/// Network posts holding emoji, CJK, combining marks and right-to-left text, on phpBB's tables as its installer makes
/// them (3-byte utf8, where an emoji written raw fails with MySQL error 1366) and as an operator converted them to
/// utf8mb4: stored as phpBB stores them, within phpBB's lengths, and read back by the QueueWorker as the same text.
/// </summary>
public sealed class UnicodeStorageTests
{
    private const string Alice = "did:plc:aliceaaaaaaaaaaaaaaaaaaa";
    private const string Bob = "did:plc:bobbbbbbbbbbbbbbbbbbbbbb";
    private static readonly string BoardUri = $"at://{FirehoseHarness.ForumDid}/net.vza.forum.board/3kboardgeneral";
    private static readonly StrongRef Board = new(BoardUri, "bafyreib2rxk3rybk3aobmv5cjuql3bm2twh4jo5uxgf5vadynilrvz6qcy");
    private static readonly DateTimeOffset T0 = new(2026, 7, 4, 15, 0, 0, TimeSpan.Zero);

    private const string Subject = "Party 🎉 中文 שלום q\u0303 👩‍💻";
    private const string Text = "Emoji 😀🎉👍🏽, CJK 漢字 and 𠀋, combining q\u0303 and e\u0301, RTL مرحبا بالعالم שלום, family 👨‍👩‍👧 & <tags>";
    private const string ReplyText = "🔥🔥🔥 reply";
    private const string BoardName = "Board 🎲 論壇";

    [Theory]
    [InlineData(PhpbbCharset.Installer)]
    [InlineData(PhpbbCharset.Utf8Mb4)]
    public async Task Emoji_cjk_combining_and_rtl_posts_are_stored_as_phpbb_stores_them_and_read_back_unchanged(PhpbbCharset charset)
    {
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync(charset: charset);
        // Board names as phpBB's ACP stores them (acp_forums: utf8_encode_ucr).
        var forumId = await FirehoseHarness.PrepareForumAsync(database, BoardUri, name: PhpbbColumnText.Name(BoardName));
        using var frames = ForumFrameFactory.Create();
        await using var relay = await LoopbackRelay.StartAsync(FirehoseStreams.SubscribeReposPath);

        var topic = frames.Post(1, Alice, "3ktopic00001", new ForumPostRecord(Text, "2026-07-04T14:59:00.000Z", Board, Subject, null, null, null), T0);
        var root = new StrongRef(topic.Uri, topic.RecordCid!);
        var reply = frames.Post(2, Bob, "3kreply00001", new ForumPostRecord(ReplyText, "2026-07-04T15:00:30.000Z", Board, null, root, root, null), T0.AddMinutes(1));
        // 63 emoji: 252 UTF-8 bytes, within the lexicon's 255 (a longer subject is refused), but 567 characters as stored.
        var longSubject = string.Concat(Enumerable.Repeat("😀", 63));
        var longTopic = frames.Post(3, Alice, "3ktopic00002", new ForumPostRecord("long", "2026-07-04T15:01:00.000Z", Board, longSubject, null, null, null), T0.AddMinutes(2));
        relay.Publish([(1, topic.Frame), (2, reply.Frame), (3, longTopic.Frame)]);

        await using var firehose = await FirehoseHarness.StartAsync(database, relay.Url, signingKey: frames.SigningKey.PublicKey);
        await firehose.WaitForCursorAsync(FirehoseStreams.RepoService, 3);

        Assert.Equal(0, FirehoseHarness.Sum(firehose.Skipped, "reason", "write_failed"));
        var t = database.Tables;
        var posts = await RowsAsync(database, $"""
            SELECT p.post_id, p.post_subject, p.post_text, CHAR_LENGTH(p.post_subject) AS subject_chars, tp.topic_title, tp.topic_last_post_subject
            FROM {t.PhpbbPosts} p JOIN {t.PhpbbTopics} tp ON tp.topic_id = p.topic_id ORDER BY p.post_id
            """);
        Assert.Equal(3, posts.Count);

        // As phpBB stores them: characters outside the BMP as references (utf8_encode_ucr), HTML escaped.
        const string storedSubject = "Party &#127881; 中文 שלום q\u0303 &#128105;\u200D&#128187;";
        Assert.Equal(storedSubject, posts[0]["post_subject"]);
        Assert.Equal(storedSubject, posts[0]["topic_title"]);
        Assert.Equal(
            "<t>Emoji &#128512;&#127881;&#128077;&#127997;, CJK 漢字 and &#131083;, combining q\u0303 and e\u0301, RTL مرحبا بالعالم שלום, " +
            "family &#128104;\u200D&#128105;\u200D&#128103; &amp; &lt;tags&gt;</t>", posts[0]["post_text"]);
        Assert.Equal("<t>&#128293;&#128293;&#128293; reply</t>", posts[1]["post_text"]);

        // Within phpBB's lengths: 63 emoji are 63 characters displayed but 567 stored; the column holds 255.
        var storedLong = (string)posts[2]["post_subject"]!;
        Assert.Equal(string.Concat(Enumerable.Repeat("&#128512;", 28)), storedLong);
        Assert.True((long)posts[2]["subject_chars"]! <= PhpbbColumnText.ColumnMaxCharacters);
        Assert.True(PhpbbColumnText.DisplayedLength(storedLong) <= PhpbbColumnText.SubjectMaxCharacters);
        Assert.Equal(storedLong, await database.ScalarAsync<string>($"SELECT forum_last_post_subject FROM {t.PhpbbForums} WHERE forum_id = {forumId}"));
        var storedName = await database.ScalarAsync<string>($"SELECT forum_name FROM {t.PhpbbForums} WHERE forum_id = {forumId}");
        Assert.Equal("Board &#127922; 論壇", storedName);
        Assert.Equal(BoardName, System.Net.WebUtility.HtmlDecode(storedName));

        // Read back as the QueueWorker builds records from phpBB's rows: the author's characters again.
        await using var dataSource = new MySqlDataSource(database.ConnectionString);
        var ids = posts.Select(p => Convert.ToInt64(p["post_id"])).ToList();
        var context = await new PostSource(dataSource, t).LoadAsync(ids, [], CancellationToken.None);
        var topicRecord = PostRecordBuilder.Record(context.Posts[ids[0]], Board, null);
        Assert.Equal(Text, topicRecord.Text);
        Assert.Equal(Subject, topicRecord.Subject);
        var replyRecord = PostRecordBuilder.Record(context.Posts[ids[1]], Board, root);
        Assert.Equal(ReplyText, replyRecord.Text);
        Assert.Equal(string.Concat(Enumerable.Repeat("😀", 28)), PostRecordBuilder.Record(context.Posts[ids[2]], Board, null).Subject);
    }

    [Fact]
    public async Task An_emoji_written_raw_into_the_installers_tables_fails_as_it_did_before_the_encoding()
    {
        // The failure the encoding prevents, on the schema every other test uses.
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync();
        var error = await Assert.ThrowsAsync<MySqlException>(() => database.ExecuteAsync(
            $"INSERT INTO {database.Tables.PhpbbPosts} (post_subject, post_text) VALUES ('Party 🎉', '<t>x</t>')"));
        Assert.Equal(1366, error.Number);
        await database.ExecuteAsync(
            $"INSERT INTO {database.Tables.PhpbbPosts} (post_subject, post_text) VALUES ('{PhpbbColumnText.Subject("Party 🎉")}', '<t>x</t>')");
    }
}
