using System.Text;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using AtSync.Core.Forum;
using AtSync.Firehose;
using AtSync.Testing;
using AtSync.Testing.Synthetic;
using AtSync.Tests.Infrastructure;
using static AtSync.Tests.Firehose.ForumStreamTests;

namespace AtSync.Tests.Firehose.Hostile;

/// <summary>
/// Thousands of generated hostile records (random Unicode with controls, lone surrogates and non-characters, markup soup
/// of BBCode, HTML and URLs, huge fields, every topic type, hostile handles) through the real pipeline (relay socket,
/// decode, signature verification, apply) into a real MariaDB with phpBB's installer schema: the stream is consumed to
/// its end without a failed batch, every stored <c>post_text</c> is well-formed XML of phpBB's elements with safe URLs,
/// and no phpBB text column holds unescaped markup or control characters.
/// </summary>
public sealed partial class HostileRecordFuzzTests
{
    private static readonly HashSet<string> Elements =
        ["r", "t", "s", "e", "i", "br", "B", "I", "U", "COLOR", "SIZE", "URL", "EMAIL", "IMG", "QUOTE", "CODE", "LIST", "LI", "LINK_TEXT"];

    private static readonly string[] Soup =
    [
        "[b]", "[/b]", "[i]", "[/i]", "[u]", "[/u]", "[quote]", "[/quote]", "[quote=\"", "[quote=", "\"]", "]", "[", "[/", "[code]", "[/code]",
        "[list]", "[list=1]", "[/list]", "[*]", "[url]", "[url=", "[/url]", "[email]", "[/email]", "[img]", "[/img]", "[color=red]", "[/color]",
        "[size=9999]", "[/size]", "http://a.test/x?y=1&z=2", "www.c.test", "javascript:alert(1)", "data:text/html,<b>", "g@h.test",
        "<script>", "</script>", "<img src=x onerror=alert(1)>", "&amp;", "&lt;", "&#0;", "&#x1F600;", "\"", "'", "\n", "\r\n", "\t",
        "\u0000", "\u001B", "\u007F", "\u0085", "\uFFFE", "\uFFFF", "\uD800", "\uDC00", "😀", "e\u0301", "\u202E", "\uFEFF", ":)",
    ];

    private static readonly string[] Handles = ["<b>bold</b>.test", "a\"quote.test", "amp&amp.test", "ctrl\u001B.test", "fine.example.com"];

    [Fact]
    public async Task Thousands_of_hostile_records_go_through_the_pipeline_and_every_stored_text_is_valid_and_escaped()
    {
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync();
        var board = HostileFirehose.Board;
        await FirehoseHarness.PrepareForumAsync(database, board.Uri);
        using var factory = ForumFrameFactory.Create();
        await using var relay = await LoopbackRelay.StartAsync(FirehoseStreams.SubscribeReposPath);
        await using var plc = await LoopbackPlc.StartAsync(factory.SigningKey.PublicKey);

        var random = new Random(20261201);
        // did:plc identifiers: 24 characters of base32 (a-z, 2-7).
        var authors = Enumerable.Range(0, 40).Select(i => $"did:plc:fuzz{(char)('a' + i / 8)}{(char)('a' + i % 8)}fuzzfuzzfuzzfuzzfu").ToArray();
        for (var i = 0; i < Handles.Length; i++) plc.Handles[authors[i]] = Handles[i];
        var topics = new List<StrongRef>();
        var frames = new List<(long, byte[])>();
        const int Count = 2500;
        for (var seq = 1; seq <= Count; seq++)
        {
            var did = authors[random.Next(authors.Length)];
            var text = Text(random);
            ForumPostRecord record;
            if (topics.Count > 0 && random.Next(3) == 0)
            {
                var root = topics[random.Next(topics.Count)];
                record = new ForumPostRecord(text, "2026-07-04T15:00:30.000Z", board, random.Next(4) == 0 ? Subject(random) : null, root, root, null,
                    random.Next(5) != 0, random.Next(2) == 0, random.Next(2) == 0);
            }
            else
            {
                var type = random.Next(6) switch { 0 => ForumTopicType.Sticky, 1 => ForumTopicType.Announcement, 2 => ForumTopicType.Global, 3 => "<script>", _ => null };
                record = new ForumPostRecord(text, random.Next(8) == 0 ? "\u0000not a date" : "2026-07-04T14:59:00.000Z", board, Subject(random), null, null, type,
                    random.Next(5) != 0);
            }
            var built = factory.Post(seq, did, $"3kfuzz{seq:D6}", record, HostileFirehose.T0.AddSeconds(seq), update: false);
            if (record.ReplyRoot is null) topics.Add(new StrongRef(built.Uri, built.RecordCid!));
            frames.Add((seq, built.Frame));
        }
        relay.Publish(frames);

        await using var firehose = await FirehoseHarness.StartAsync(database, relay.Url, plcUrl: plc.BaseUri,
            extra: new Dictionary<string, string?> { [PostingOptions.ModerationSetting] = "unknown" });
        await firehose.WaitForCursorAsync(FirehoseStreams.RepoService, Count, TimeSpan.FromMinutes(5));

        Assert.Equal(0, FirehoseHarness.Sum(firehose.Skipped, "reason", Outcomes.WriteFailed));
        var t = database.Tables;
        var posts = await RowsAsync(database, $"SELECT post_id, post_text, post_subject FROM {t.PhpbbPosts}");
        Assert.True(posts.Count > Count / 2, $"only {posts.Count} of {Count} records were stored");
        foreach (var post in posts)
        {
            CheckXml((string)post["post_text"]!, post["post_id"]);
            CheckEscaped((string)post["post_subject"]!, "post_subject");
        }
        foreach (var row in await RowsAsync(database, $"""
            SELECT topic_title, topic_first_poster_name, topic_last_poster_name, topic_last_post_subject, topic_type FROM {t.PhpbbTopics}
            """))
        {
            foreach (var column in new[] { "topic_title", "topic_first_poster_name", "topic_last_poster_name", "topic_last_post_subject" })
            {
                CheckEscaped((string)row[column]!, column);
            }
            // No random author is phpBB staff: every topic is a normal one.
            Assert.Equal(0L, row["topic_type"]);
        }
        foreach (var row in await RowsAsync(database, $"SELECT username, username_clean FROM {t.PhpbbUsers}"))
        {
            CheckEscaped((string)row["username"]!, "username");
            CheckEscaped((string)row["username_clean"]!, "username_clean");
        }
        foreach (var row in await RowsAsync(database, $"SELECT forum_last_post_subject, forum_last_poster_name FROM {t.PhpbbForums}"))
        {
            CheckEscaped((string)row["forum_last_post_subject"]!, "forum_last_post_subject");
            CheckEscaped((string)row["forum_last_poster_name"]!, "forum_last_poster_name");
        }
        // Refused records are counted, not lost silently.
        Assert.True(FirehoseHarness.Sum(firehose.Skipped, "reason", Outcomes.TextTooLong) > 0);
        Assert.True(FirehoseHarness.Sum(firehose.Skipped, "reason", Outcomes.SubjectTooLong) > 0);
        Assert.True(FirehoseHarness.Sum(firehose.Skipped, "reason", Outcomes.TopicTypeNotAllowed) > 0);
    }

    private static void CheckXml(string xml, object? postId)
    {
        XDocument doc;
        try
        {
            doc = XDocument.Parse(xml, LoadOptions.PreserveWhitespace);
        }
        catch (System.Xml.XmlException ex)
        {
            throw new Xunit.Sdk.XunitException($"post {postId}: not XML ({ex.Message}): {xml[..Math.Min(xml.Length, 300)]}");
        }
        Assert.Contains(doc.Root!.Name.LocalName, (string[])["r", "t"]);
        foreach (var element in doc.Descendants())
        {
            Assert.True(Elements.Contains(element.Name.LocalName), $"post {postId}: element {element.Name}");
            foreach (var attribute in element.Attributes().Where(a => a.Name.LocalName is "url" or "src"))
            {
                var scheme = SchemePattern().Match(attribute.Value);
                if (scheme.Success) Assert.Contains(scheme.Groups[1].Value.ToLowerInvariant(), (string[])["http", "https", "ftp"]);
            }
        }
        // Characters outside the BMP are stored as references (phpBB's utf8 tables), and XML 1.0 holds no U+FFFE/U+FFFF.
        Assert.DoesNotContain(xml, c => char.IsSurrogate(c) || c is '\uFFFE' or '\uFFFF' || (c < 0x20 && c is not ('\n' or '\t')));
    }

    /// <summary>As phpBB's request layer stores a one-line field: no markup characters, every '&amp;' an entity, no controls.</summary>
    private static void CheckEscaped(string value, string column)
    {
        Assert.False(value.AsSpan().IndexOfAny("<>\"") >= 0, $"{column} holds markup: {value}");
        Assert.False(value.Any(c => char.IsControl(c) || char.IsSurrogate(c) || c is '\uFFFE' or '\uFFFF'), $"{column} holds a control character: {value}");
        Assert.True(BareAmpersand().Matches(value).Count == 0, $"{column} holds a bare '&': {value}");
    }

    private static string Text(Random random) => random.Next(40) switch
    {
        0 => new string('x', 100_001),
        1 => string.Concat(Enumerable.Repeat("[quote][b]", 5_000)),
        2 => RandomUnicode(random, 30_000),
        _ => random.Next(2) == 0 ? RandomUnicode(random, random.Next(0, 300)) : MarkupSoup(random, random.Next(0, 80)),
    };

    private static string Subject(Random random) => random.Next(12) switch
    {
        0 => new string('s', 300),
        1 => "",
        2 => "\u0000\u001B\r\n\t",
        _ => random.Next(2) == 0 ? RandomUnicode(random, random.Next(1, 60)) : MarkupSoup(random, random.Next(1, 12)),
    };

    private static string RandomUnicode(Random random, int length)
    {
        var builder = new StringBuilder(length);
        for (var i = 0; i < length; i++)
        {
            builder.Append(random.Next(7) switch
            {
                0 => (char)random.Next(0, 0x20),
                1 => (char)random.Next(0xD800, 0xE000),
                2 => (char)random.Next(0xFFF0, 0x10000),
                3 => "[]<>&\"'=/*:;#"[random.Next(13)],
                4 => char.ConvertFromUtf32(random.Next(0x1F300, 0x1FAFF))[0],
                _ => (char)random.Next(0x20, 0xD800),
            });
        }
        return builder.ToString();
    }

    private static string MarkupSoup(Random random, int pieces)
    {
        var builder = new StringBuilder();
        for (var i = 0; i < pieces; i++)
        {
            builder.Append(random.Next(4) == 0 ? RandomUnicode(random, random.Next(1, 6)) : Soup[random.Next(Soup.Length)]);
        }
        return builder.ToString();
    }

    [GeneratedRegex("^([A-Za-z][A-Za-z0-9+.-]*):")]
    private static partial Regex SchemePattern();

    [GeneratedRegex("&(?!(?:amp|lt|gt|quot|#[0-9]+);)")]
    private static partial Regex BareAmpersand();
}
