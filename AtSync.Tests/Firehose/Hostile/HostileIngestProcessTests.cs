using System.Xml.Linq;
using AtSync.Core.Forum;
using AtSync.Core.Forum.Text;
using AtSync.Core.Settings;
using AtSync.Firehose;
using AtSync.QueueWorker.Records;
using AtSync.Tests.Infrastructure;
using MySqlConnector;
using static AtSync.Tests.Firehose.ForumStreamTests;

namespace AtSync.Tests.Firehose.Hostile;

/// <summary>
/// Attacks on the open network's way into phpBB, each against the Firehose as a process with a real MariaDB: what is
/// stored (escaped as phpBB escapes, s9e XML as phpBB stores it), what the posting policy lets through (moderation
/// queue, topic types, bans, lexicon limits), and the service's own counters for every refusal.
/// </summary>
public sealed class HostileIngestProcessTests
{
    private const string Mallory = "did:plc:mallorymallorymallorymal";
    private const string Trudy = "did:plc:trudytrudytrudytrudytrud";

    private static ForumPostRecord Topic(string subject, string text, string? topicType = null) =>
        new(text, "2026-07-04T14:59:00.000Z", HostileFirehose.Board, subject, null, null, topicType);

    private static ForumPostRecord Reply(StrongRef root, string text) =>
        new(text, "2026-07-04T15:00:30.000Z", HostileFirehose.Board, null, root, root, null);

    [Fact]
    public async Task A_script_subject_and_hostile_markup_are_stored_escaped_and_as_phpbbs_xml()
    {
        await using var h = await HostileFirehose.PrepareAsync();
        const string subject = "<script>alert(\"x\")</script> & co\u0000\u001B\nline\r\n\tend";
        const string text = "[b]bold[/b] <script>alert(1)</script> [url=javascript:alert(1)]x[/url] [quote=\"<img src=x>\"]q[/quote] https://a.test/?a=1&b=2 \uFFFE\uFFFF";
        var topic = h.Frames.Post(1, Mallory, "3ktopic00001", Topic(subject, text), HostileFirehose.T0);
        await h.RunAsync([(1, topic.Frame)], new Dictionary<string, string?> { [PostingOptions.ModerationSetting] = "none" });

        var t = h.Database.Tables;
        var row = Assert.Single(await RowsAsync(h.Database, $"""
            SELECT p.post_id, p.post_subject, p.post_text, p.bbcode_uid, p.bbcode_bitfield, p.enable_bbcode, p.enable_smilies, p.enable_magic_url,
                   p.post_checksum, tp.topic_title, tp.topic_last_post_subject, f.forum_last_post_subject
            FROM {t.PhpbbPosts} p JOIN {t.PhpbbTopics} tp ON tp.topic_id = p.topic_id JOIN {t.PhpbbForums} f ON f.forum_id = p.forum_id
            """));
        // htmlspecialchars once (ENT_COMPAT), NUL and ESC dropped, line breaks and tabs as spaces.
        const string stored = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co line   end";
        Assert.Equal(stored, row["post_subject"]);
        Assert.Equal(stored, row["topic_title"]);
        Assert.Equal(stored, row["topic_last_post_subject"]);
        Assert.Equal(stored, row["forum_last_post_subject"]);

        var xml = (string)row["post_text"]!;
        Assert.StartsWith("<r>", xml, StringComparison.Ordinal);
        Assert.Contains("<B><s>[b]</s>bold<e>[/b]</e></B>", xml, StringComparison.Ordinal);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", xml, StringComparison.Ordinal);
        Assert.Contains("<URL url=\"https://a.test/?a=1&amp;b=2\">", xml, StringComparison.Ordinal);
        Assert.DoesNotContain("javascript:", XDocument.Parse(xml).Descendants().SelectMany(e => e.Attributes()).Select(a => a.Value));
        Assert.DoesNotContain('\uFFFE', xml);
        Assert.DoesNotContain('\uFFFF', xml);
        // As phpBB 3.3 stores a parsed post: an 8-character uid, no bitfield, smilies left as text, magic links on.
        Assert.Matches("^[0-9a-z]{8}$", (string)row["bbcode_uid"]!);
        Assert.Equal("", row["bbcode_bitfield"]);
        Assert.Equal((1L, 0L, 1L), ((long)row["enable_bbcode"]!, (long)row["enable_smilies"]!, (long)row["enable_magic_url"]!));

        // The QueueWorker's reading (phpBB's edit form does the same) gives back what the author wrote.
        await using var dataSource = new MySqlDataSource(h.Database.ConnectionString);
        var postId = Convert.ToInt64(row["post_id"]);
        var post = (await new PostSource(dataSource, t).LoadAsync([postId], [], CancellationToken.None)).Posts[postId];
        var record = PostRecordBuilder.Record(post, HostileFirehose.Board, null);
        Assert.Equal(text.Replace("\uFFFE\uFFFF", ""), record.Text);
        Assert.Equal("<script>alert(\"x\")</script> & co line   end", record.Subject);
    }

    [Fact]
    public async Task A_global_announcement_from_a_random_account_is_a_normal_topic_waiting_in_the_moderation_queue()
    {
        await using var h = await HostileFirehose.PrepareAsync();
        var topic = h.Frames.Post(1, Mallory, "3ktopic00001", Topic("READ THIS", "spam", ForumTopicType.Global), HostileFirehose.T0);
        var root = new StrongRef(topic.Uri, topic.RecordCid!);
        var reply = h.Frames.Post(2, Trudy, "3kreply00001", Reply(root, "me too"), HostileFirehose.T0.AddMinutes(1));
        // The forum's own account (a did:plc the loopback directory resolves).
        const string forumDid = "did:plc:forumforumforumforumforu";
        var forum = h.Frames.Post(3, forumDid, "3ktopic00002", Topic("Forum rules", "be kind", ForumTopicType.Global), HostileFirehose.T0.AddMinutes(2));
        // The default policy: no NETWORK_POSTERS / NETWORK_MODERATION set.
        await h.RunAsync([(1, topic.Frame), (2, reply.Frame), (3, forum.Frame)],
            new Dictionary<string, string?> { [SettingNames.ForumDid] = forumDid });

        var t = h.Database.Tables;
        var topics = await RowsAsync(h.Database, $"""
            SELECT topic_title, topic_type, topic_visibility, topic_posts_approved, topic_posts_unapproved FROM {t.PhpbbTopics} ORDER BY topic_id
            """);
        Assert.Equal(2, topics.Count);
        // The random account's global announcement: a normal topic, ITEM_UNAPPROVED with both its posts in the queue.
        Assert.Equal((0L, 0L, 0L, 2L), ((long)topics[0]["topic_type"]!, (long)topics[0]["topic_visibility"]!,
            (long)topics[0]["topic_posts_approved"]!, (long)topics[0]["topic_posts_unapproved"]!));
        // The forum's own account may post a global announcement, approved.
        Assert.Equal((3L, 1L, 1L, 0L), ((long)topics[1]["topic_type"]!, (long)topics[1]["topic_visibility"]!,
            (long)topics[1]["topic_posts_approved"]!, (long)topics[1]["topic_posts_unapproved"]!));
        Assert.Equal([0L, 0L, 1L], (await RowsAsync(h.Database, $"SELECT post_visibility FROM {t.PhpbbPosts} ORDER BY post_id"))
            .Select(r => (long)r["post_visibility"]!));

        // phpBB's counters for waiting posts: only the unapproved ones move; the forum's last post is the approved one.
        var f = Assert.Single(await RowsAsync(h.Database, $"""
            SELECT forum_topics_approved, forum_topics_unapproved, forum_posts_approved, forum_posts_unapproved, forum_last_post_subject
            FROM {t.PhpbbForums} WHERE forum_id = {h.ForumId}
            """));
        Assert.Equal((1L, 1L, 1L, 2L), ((long)f["forum_topics_approved"]!, (long)f["forum_topics_unapproved"]!,
            (long)f["forum_posts_approved"]!, (long)f["forum_posts_unapproved"]!));
        Assert.Equal("Forum rules", f["forum_last_post_subject"]);
        Assert.Equal(0L, await h.Database.ScalarAsync<long>(
            $"SELECT COALESCE(SUM(u.user_posts), 0) FROM {t.PhpbbUsers} u JOIN {t.Users} au ON au.user_id = u.user_id WHERE au.did IN ('{Mallory}', '{Trudy}')"));

        Assert.Equal(1, await h.SkippedAsync(Outcomes.TopicTypeNotAllowed));
        Assert.Equal(2, await h.ForumOpsAsync(Outcomes.Unapproved, 2));
    }

    [Fact]
    public async Task Banned_users_and_banned_dids_are_refused_and_counted_while_an_excluded_ban_lets_its_user_post()
    {
        await using var h = await HostileFirehose.PrepareAsync();
        const string bannedDid = "did:plc:banneddidbanneddidbanned";
        const string bannedUser = "did:plc:banneduserbanneduserbann";
        const string bannedEmail = "did:plc:bannedemailbannedemailba";
        const string excluded = "did:plc:excludedexcludedexcluded";
        var t = h.Database.Tables;
        // The operator's ban, the way README gives it: the atsync command.
        var ban = await AtSync.Tests.Operations.CliProcess.RunAsync(ServiceSettings.For(h.Database, ServiceSettings.NewTokenKeysJson()), "access", "ban", bannedDid, "--reason", "spam");
        Assert.True(ban.ExitCode == 0, ban.ToString());
        var userId = await h.LinkMemberAsync(bannedUser, "spammer");
        await h.LinkMemberAsync(bannedEmail, "spammer2", email: "Someone@Spam.Test");
        var excludedId = await h.LinkMemberAsync(excluded, "friend", email: "friend@spam.test");
        await h.Database.ExecuteAsync($"""
            INSERT INTO {t.PhpbbBanlist} (ban_userid, ban_email, ban_start, ban_end, ban_exclude, ban_reason, ban_give_reason) VALUES
              ({userId}, '', 0, 0, 0, '', ''),
              (0, '*@spam.test', 0, 0, 0, '', ''),
              ({excludedId}, '', 0, 0, 1, '', '');
            """);
        var frames = new List<(long, byte[])>();
        var seq = 0;
        foreach (var did in new[] { bannedDid, bannedUser, bannedEmail, excluded })
        {
            seq++;
            frames.Add((seq, h.Frames.Post(seq, did, $"3ktopic0000{seq}", Topic($"post {seq}", "hello"), HostileFirehose.T0.AddSeconds(seq)).Frame));
        }
        await h.RunAsync(frames);

        var posts = await RowsAsync(h.Database, $"SELECT au.did FROM {t.PhpbbPosts} p JOIN {t.Users} au ON au.user_id = p.poster_id");
        Assert.Equal([excluded], posts.Select(p => (string)p["did"]!));
        // A banned DID never even gets a phpBB user.
        Assert.Equal(0L, await h.Database.ScalarAsync<long>($"SELECT COUNT(*) FROM {t.Users} WHERE did = '{bannedDid}'"));
        Assert.Equal(1, await h.SkippedAsync(Outcomes.BannedDid));
        Assert.Equal(2, await h.SkippedAsync(Outcomes.BannedUser, 2));
    }

    [Fact]
    public async Task Records_over_the_lexicons_limits_are_refused_whole_and_counted()
    {
        await using var h = await HostileFirehose.PrepareAsync();
        var megabyte = new string('a', 1_000_000);
        var longSubject = new string('s', 100_000);
        // The lexicon: subject at most 255 UTF-8 bytes and 100 graphemes.
        var graphemes = new string('g', 101);
        var within = new string('w', 100);
        (long, byte[]) Post(int seq, string subject, string text) =>
            (seq, h.Frames.Post(seq, Mallory, $"3ktopic0000{seq}", Topic(subject, text), HostileFirehose.T0.AddSeconds(seq)).Frame);
        await h.RunAsync([Post(1, "big", megabyte), Post(2, longSubject, "x"), Post(3, graphemes, "x"), Post(4, within, "fits")],
            new Dictionary<string, string?> { [PostingOptions.ModerationSetting] = "none" });

        var t = h.Database.Tables;
        var row = Assert.Single(await RowsAsync(h.Database, $"SELECT post_subject, post_text FROM {t.PhpbbPosts}"));
        Assert.Equal("<t>fits</t>", row["post_text"]);
        Assert.Equal(within, row["post_subject"]);
        Assert.Equal(1, await h.SkippedAsync(Outcomes.TextTooLong));
        Assert.Equal(2, await h.SkippedAsync(Outcomes.SubjectTooLong, 2));
    }

    [Fact]
    public async Task Known_only_posting_refuses_strangers_and_honours_sticky_only_with_phpbbs_f_sticky()
    {
        await using var h = await HostileFirehose.PrepareAsync();
        const string allowed = "did:plc:allowedallowedallowedall";
        const string moderator = "did:plc:moderatormoderatormodera";
        const string member = "did:plc:membermembermembermember";
        const string networkUser = "did:plc:networknetworknetworknet";
        var t = h.Database.Tables;
        await h.Database.ExecuteAsync($"INSERT INTO {t.DidAccess} (did, access, reason, created_at) VALUES ('{allowed}', 'allow', '', 0)");
        var moderatorId = await h.LinkMemberAsync(moderator, "moddy");
        var memberId = await h.LinkMemberAsync(member, "member");
        // phpBB's permissions: both are REGISTERED (f_noapprove in the forum); the board's moderator may make stickies there.
        var acl = new PhpbbAclRows(h.Database);
        var registered = await acl.GroupAsync("REGISTERED");
        await acl.GroupGrantAsync(registered, h.ForumId, "f_noapprove", PhpbbAclRows.Yes);
        await acl.JoinAsync(registered, moderatorId);
        await acl.JoinAsync(registered, memberId);
        await acl.UserGrantAsync(moderatorId, h.ForumId, "f_sticky", PhpbbAclRows.Yes);
        // A user the Firehose created earlier (no session): not known.
        await h.LinkMemberAsync(networkUser, "network", session: false);

        (long, byte[]) Post(int seq, string did, string? type) =>
            (seq, h.Frames.Post(seq, did, $"3ktopic0000{seq}", Topic($"topic {seq}", "text", type), HostileFirehose.T0.AddSeconds(seq)).Frame);
        await h.RunAsync(
            [Post(1, Mallory, null), Post(2, networkUser, null), Post(3, allowed, ForumTopicType.Sticky), Post(4, moderator, ForumTopicType.Sticky),
             Post(5, moderator, ForumTopicType.Global), Post(6, member, ForumTopicType.Announcement)],
            new Dictionary<string, string?> { [PostingOptions.PostersSetting] = "known" });

        var topics = await RowsAsync(h.Database, $"""
            SELECT tp.topic_title, tp.topic_type, tp.topic_visibility FROM {t.PhpbbTopics} tp ORDER BY tp.topic_id
            """);
        Assert.Equal(["topic 3", "topic 4", "topic 5", "topic 6"], topics.Select(r => (string)r["topic_title"]!));
        // Allowed and linked DIDs are known: approved (the members through f_noapprove). Sticky only with f_sticky; global not even then.
        Assert.Equal([0L, 1L, 0L, 0L], topics.Select(r => (long)r["topic_type"]!));
        Assert.All(topics, r => Assert.Equal(1L, r["topic_visibility"]));
        Assert.Equal(2, await h.SkippedAsync(Outcomes.UnknownPoster, 2));
        Assert.Equal(3, await h.SkippedAsync(Outcomes.TopicTypeNotAllowed, 3));
        Assert.Equal(0L, await h.Database.ScalarAsync<long>($"SELECT COUNT(*) FROM {t.Users} WHERE did = '{Mallory}'"));
    }

    [Fact]
    public async Task A_bad_posting_setting_stops_the_firehose_with_one_line_naming_it()
    {
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync(withPhpbbSchema: false);
        var settings = ServiceSettings.For(database, ServiceSettings.NewTokenKeysJson());
        settings[PostingOptions.ModerationSetting] = "3";
        await using var service = ServiceProcess.Start("AtSync.Firehose", settings);
        Assert.True(await service.WaitForExitAsync(TimeSpan.FromSeconds(30)), service.Output);
        Assert.Equal(2, service.ExitCode);
        Assert.Equal($"AtSync.Firehose cannot start: {PostingOptions.ModerationSetting} must be unknown, all or none.", Assert.Single(service.OutputLines));
    }
}
