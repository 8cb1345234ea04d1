using System.Globalization;
using System.Text;
using AtSync.Core.Forum;
using AtSync.Core.Forum.Text;
using AtSync.Firehose.Apply.Appliers;
using AtSync.Firehose.Apply.Mappings;
using AtSync.Firehose.Apply.Phpbb;
using AtSync.Firehose.Events;
using MySqlConnector;

namespace AtSync.Firehose.Apply.Bulk;

/// <summary>
/// A repository import's batch of new posts written with multi-row INSERTs: the rows <see cref="PostOpApplier"/> makes
/// one record at a time (phpBB's <c>submit_post</c>: topics, posts, the topic's first/last post fields and counters, the
/// poster's post count and last post time, the forum's counters and last post; AtSync's mappings and record revisions),
/// with each counter and last-post field computed once for the batch, in the batch's order, as the one-at-a-time path
/// leaves it. Only the common case is taken: every operation a create of a valid post by one author, not yet mapped,
/// parked or revised, on a known board, approved (the posting policy does not moderate the author), a normal topic type,
/// and each reply's topic either earlier in the batch or an approved topic already in phpBB. Anything else returns false
/// with nothing written but the author's user (which the one-at-a-time path then finds), and the caller applies the
/// batch through <see cref="EventApplier"/>.
/// </summary>
internal sealed class BulkPostWriter
{
    /// <summary>Rows per INSERT statement (also bounded by <see cref="MaxStatementChars"/>).</summary>
    private const int MaxRowsPerStatement = 500;

    /// <summary>Text per INSERT statement, well under MySQL's default 16 MiB (MariaDB) / 64 MiB <c>max_allowed_packet</c>.</summary>
    private const int MaxStatementChars = 2 * 1024 * 1024;

    private readonly ForumSession _db;
    private readonly Authors _authors;
    private readonly PostingPolicy _policy;
    private readonly BatchOutcome _outcome;

    public BulkPostWriter(ForumSession db, IReadOnlyDictionary<string, string?> handles, BatchOutcome outcome, PostingOptions posting, string forumDid)
    {
        _db = db;
        var links = new UserLinks(db);
        _authors = new Authors(links, new AccountRows(db), new PhpbbUsers(db), handles);
        _policy = new PostingPolicy(posting, forumDid, new DidAccessRows(db), links, new PhpbbPermissions(db));
        _outcome = outcome;
    }

    private sealed class Item(ForumOp op, string uri, ForumPostRecord record, long time, PostContent content)
    {
        public ForumOp Op { get; } = op;
        public string Uri { get; } = uri;
        public ForumPostRecord Record { get; } = record;
        public long Time { get; } = time;
        public PostContent Content { get; } = content;
        public TopicState Topic { get; set; } = null!;
        public uint ForumId { get; set; }
        public uint PostId { get; set; }
        public bool StartsTopic => !Record.IsReply;
    }

    private sealed class TopicState
    {
        public uint TopicId { get; set; }
        public uint ForumId { get; init; }
        public bool New { get; init; }
        public Item? Starter { get; init; }
        public int Replies { get; set; }
        public Item Last { get; set; } = null!;
    }

    /// <summary>
    /// Applies <paramref name="ops"/> (creates of <paramref name="did"/>'s posts at commit <paramref name="rev"/>, event
    /// time <paramref name="eventTime"/>) in bulk; false when the batch is not the common case (nothing applied).
    /// </summary>
    public async Task<bool> TryApplyAsync(string did, string rev, long eventTime, IReadOnlyList<ForumOp> ops, CancellationToken ct)
    {
        if (ops.Count == 0) return false;
        // Checks on the records alone, in the order PostOpApplier makes them.
        var items = new List<Item>(ops.Count);
        var byUri = new Dictionary<string, Item>(StringComparer.Ordinal);
        var batchUris = ops.Select(o => o.Uri(did)).ToHashSet(StringComparer.Ordinal);
        foreach (var op in ops)
        {
            if (op.Action != ForumOp.Create || op.Collection != ForumLexicon.Post || op.Post is not { } record || op.Problem is not null || op.Cid is null) return false;
            if (RecordLimits.Refusal(record) is not null) return false;
            var uri = op.Uri(did);
            if (byUri.ContainsKey(uri)) return false;
            if (record.ReplyRoot is { } root)
            {
                // A reply whose topic comes later in the batch would be parked: not the common case.
                if (!byUri.ContainsKey(root.Uri) && batchUris.Contains(root.Uri)) return false;
            }
            else if (PhpbbSubject.Stored(record.Subject).Length == 0 || ForumTopicType.ToPhpbb(record.TopicType) != PhpbbConstants.PostNormal)
            {
                return false;
            }
            var item = new Item(op, uri, record, EventTimes.PostTime(record.CreatedAt, eventTime), PostContent.From(record, PhpbbConstants.PostNormal));
            items.Add(item);
            byUri[uri] = item;
        }

        // Checks against the database, in one round trip: nothing of the batch revised, mapped or parked yet, no reply
        // parked for its topics, every board known, every earlier topic approved.
        var boardUris = items.Select(i => i.Record.Forum.Uri).Distinct(StringComparer.Ordinal).ToList();
        var outsideRoots = items.Where(i => i.Record.ReplyRoot is { } r && !byUri.ContainsKey(r.Uri)).Select(i => i.Record.ReplyRoot!.Uri)
            .Distinct(StringComparer.Ordinal).ToList();
        var known = await ReadKnownAsync(items, boardUris, outsideRoots, ct);
        if (known.Taken) return false;
        foreach (var board in boardUris) if (!known.Boards.ContainsKey(board)) return false;
        foreach (var root in outsideRoots)
        {
            if (!known.Topics.TryGetValue(root, out var topic) || topic.Visibility != PhpbbConstants.ItemApproved) return false;
        }

        var admission = await _policy.AdmitAsync(did, eventTime, ct);
        if (admission.Refusal is not null || admission.Moderated) return false;
        var poster = await _authors.EnsureAsync(did, eventTime, ct);
        // The one-at-a-time path admits every post after the first with the author's user in place.
        if (await _policy.AdmitAsync(did, eventTime, ct) != admission) return false;

        // Each post's topic and forum, in batch order.
        var topics = new List<TopicState>();
        var existing = new Dictionary<uint, TopicState>();
        foreach (var item in items)
        {
            TopicState topic;
            if (item.Record.ReplyRoot is not { } root)
            {
                topic = new TopicState { ForumId = known.Boards[item.Record.Forum.Uri], New = true, Starter = item };
                topics.Add(topic);
            }
            else if (byUri.TryGetValue(root.Uri, out var earlier))
            {
                topic = earlier.Topic;
                topic.Replies++;
            }
            else
            {
                var mapped = known.Topics[root.Uri];
                if (!existing.TryGetValue(mapped.TopicId, out topic!))
                {
                    topic = new TopicState { TopicId = mapped.TopicId, ForumId = mapped.ForumId, New = false };
                    existing[mapped.TopicId] = topic;
                    topics.Add(topic);
                }
                topic.Replies++;
            }
            item.Topic = topic;
            item.ForumId = topic.ForumId;
            topic.Last = item;
        }

        var t = _db.Tables;
        var increment = known.Increment;
        var starters = items.Where(i => i.StartsTopic).ToList();
        var topicIds = await InsertAsync(t.PhpbbTopics, "topic_id", "topic_poster", poster.UserId, """
            (forum_id, topic_title, topic_poster, topic_time, topic_last_view_time, topic_posts_approved,
             topic_posts_unapproved, topic_visibility, topic_delete_user, topic_first_poster_name, topic_first_poster_colour, topic_type, topic_status)
            """,
            starters.Select(s => new object?[]
            {
                s.ForumId, s.Content.Subject, poster.UserId, s.Time, s.Time, 1, 0, PhpbbConstants.ItemApproved, 0, poster.Username, poster.Colour,
                PhpbbConstants.PostNormal, 0,
            }).ToList(), increment, ct);
        for (var i = 0; i < starters.Count; i++) starters[i].Topic.TopicId = topicIds[i];

        var postIds = await InsertAsync(t.PhpbbPosts, "post_id", "poster_id", poster.UserId, """
            (topic_id, forum_id, poster_id, poster_ip, post_time, enable_bbcode, enable_smilies, enable_magic_url,
             enable_sig, post_username, post_subject, post_text, post_checksum, bbcode_bitfield, bbcode_uid, post_postcount, post_visibility)
            """,
            items.Select(p => new object?[]
            {
                p.Topic.TopicId, p.ForumId, poster.UserId, "", p.Time, p.Content.Message.EnableBbcode, p.Content.Message.EnableSmilies,
                p.Content.Message.EnableMagicUrl, p.Content.EnableSignature, "", p.Content.Subject, p.Content.Message.Text, p.Content.Message.Checksum,
                "", PhpbbMessage.NewUid(), 1, PhpbbConstants.ItemApproved,
            }).ToList(), increment, ct);
        for (var i = 0; i < items.Count; i++) items[i].PostId = postIds[i];

        var synced = SyncStatus.Synced.ToSql();
        await InsertAsync(t.Posts, null, null, 0, "(post_id, at_uri, at_cid, author_did, is_topic_starter, sync_status, created_at, updated_at)",
            items.Select(p => new object?[] { p.PostId, p.Uri, p.Op.Cid, did, p.StartsTopic, synced, eventTime, eventTime }).ToList(), increment, ct);
        await InsertAsync(t.RecordRevisions, null, null, 0, "(at_uri, rev)", items.Select(p => new object?[] { p.Uri, rev }).ToList(), increment, ct);

        await UpdateCountersAsync(poster, items, topics, ct);
        foreach (var item in items) _outcome.Apply(item.StartsTopic ? Outcomes.Topic : Outcomes.Reply);
        return true;
    }

    /// <summary>
    /// submit_post's counters and last-post fields, once per topic, poster and forum: what they hold after the batch's
    /// posts were submitted one after another (the last post of the batch in a topic or forum is its last post).
    /// </summary>
    private async Task UpdateCountersAsync(PhpbbUser poster, List<Item> items, List<TopicState> topics, CancellationToken ct)
    {
        var t = _db.Tables;
        var sql = new StringBuilder();
        static string L(object? value) => SqlLiteral.Of(value);
        var posterLiterals = L(poster.UserId);
        var name = L(poster.Username);
        var colour = L(poster.Colour);
        foreach (var topic in topics)
        {
            sql.Append(CultureInfo.InvariantCulture, $"""
                UPDATE {t.PhpbbTopics} SET
                  topic_first_post_id = {(topic.New ? L(topic.Starter!.PostId) : "topic_first_post_id")}, topic_posts_approved = topic_posts_approved + {L(topic.Replies)},
                  topic_last_post_id = {L(topic.Last.PostId)}, topic_last_poster_id = {posterLiterals}, topic_last_poster_name = {name}, topic_last_poster_colour = {colour},
                  topic_last_post_subject = {L(topic.Last.Content.Subject)}, topic_last_post_time = {L(topic.Last.Time)}, topic_last_view_time = {L(topic.Last.Time)},
                  topic_bumped = 0, topic_bumper = 0
                WHERE topic_id = {L(topic.TopicId)};

                """);
        }
        sql.Append(CultureInfo.InvariantCulture, $"""
            UPDATE {t.PhpbbUsers} SET user_lastpost_time = {L(items[^1].Time)}, user_posts = user_posts + {L(items.Count)} WHERE user_id = {posterLiterals};

            """);
        foreach (var forum in items.GroupBy(i => i.ForumId))
        {
            var last = forum.Last();
            sql.Append(CultureInfo.InvariantCulture, $"""
                UPDATE {t.PhpbbForums} SET
                  forum_topics_approved = forum_topics_approved + {L(forum.Count(p => p.StartsTopic))}, forum_posts_approved = forum_posts_approved + {L(forum.Count())},
                  forum_last_post_id = {L(last.PostId)}, forum_last_poster_id = {posterLiterals}, forum_last_post_subject = {L(last.Content.Subject)},
                  forum_last_post_time = {L(last.Time)}, forum_last_poster_name = {name}, forum_last_poster_colour = {colour}
                WHERE forum_id = {L(forum.Key)};

                """);
        }
        await _db.ExecuteAsync(sql.ToString(), ct);
    }

    private sealed record KnownRows(bool Taken, Dictionary<string, uint> Boards, Dictionary<string, MappedTopic> Topics, int Increment);

    private async Task<KnownRows> ReadKnownAsync(List<Item> items, List<string> boardUris, List<string> roots, CancellationToken ct)
    {
        var t = _db.Tables;
        static string List(IEnumerable<string> values)
        {
            var list = new StringBuilder();
            foreach (var value in values)
            {
                if (list.Length > 0) list.Append(',');
                SqlLiteral.Append(list, value);
            }
            return list.Length == 0 ? "NULL" : list.ToString();
        }
        var uris = List(items.Select(i => i.Uri));
        var starters = List(items.Where(i => i.StartsTopic).Select(i => i.Uri));
        var boards = List(boardUris);
        var topics = List(roots);
        await using var read = _db.Command($"""
            SELECT COUNT(*) FROM {t.RecordRevisions} WHERE at_uri IN ({uris});
            SELECT COUNT(*) FROM {t.Posts} WHERE at_uri IN ({uris});
            SELECT COUNT(*) FROM {t.ParkedPosts} WHERE at_uri IN ({uris}) OR root_uri IN ({starters});
            SELECT af.at_uri, af.forum_id FROM {t.Forums} af JOIN {t.PhpbbForums} f ON f.forum_id = af.forum_id WHERE af.at_uri IN ({boards}) AND f.forum_type = {PhpbbConstants.ForumPost};
            SELECT ap.at_uri, p.topic_id, tp.forum_id, tp.topic_visibility FROM {t.Posts} ap JOIN {t.PhpbbPosts} p ON p.post_id = ap.post_id
              JOIN {t.PhpbbTopics} tp ON tp.topic_id = p.topic_id WHERE ap.at_uri IN ({topics});
            SELECT @@auto_increment_increment;
            """);
        await using var reader = await read.ExecuteReaderAsync(ct);
        long taken = 0;
        for (var i = 0; i < 3; i++)
        {
            await reader.ReadAsync(ct);
            taken += reader.Int64At(0);
            await reader.NextResultAsync(ct);
        }
        var boardIds = new Dictionary<string, uint>(StringComparer.Ordinal);
        while (await reader.ReadAsync(ct)) boardIds[reader.GetString(0)] = reader.UInt32At(1);
        await reader.NextResultAsync(ct);
        var mapped = new Dictionary<string, MappedTopic>(StringComparer.Ordinal);
        while (await reader.ReadAsync(ct)) mapped[reader.GetString(0)] = new MappedTopic(reader.UInt32At(1), reader.UInt32At(2), reader.Int32At(3));
        await reader.NextResultAsync(ct);
        await reader.ReadAsync(ct);
        var increment = reader.Int32At(0);
        return new KnownRows(taken > 0, boardIds, mapped, Math.Max(1, increment));
    }

    /// <summary>
    /// Multi-row INSERTs of <paramref name="rows"/> (in order); for a table with an auto-increment <paramref name="idColumn"/>,
    /// the ids the rows got: a multi-row INSERT with its row count known in advance takes consecutive values (every
    /// <c>innodb_autoinc_lock_mode</c>), <c>auto_increment_increment</c> apart, from the first one LAST_INSERT_ID gives;
    /// checked against the rows of <paramref name="posterId"/> in that range, so a concurrent writer can never be mistaken
    /// for one of ours.
    /// </summary>
    private async Task<List<uint>> InsertAsync(string table, string? idColumn, string? posterColumn, uint posterId, string columns,
        IReadOnlyList<object?[]> rows, int increment, CancellationToken ct)
    {
        var ids = new List<uint>(rows.Count);
        var done = 0;
        while (done < rows.Count)
        {
            var sql = new StringBuilder($"INSERT INTO {table} {columns} VALUES ");
            var count = 0;
            var start = sql.Length;
            while (done + count < rows.Count && count < MaxRowsPerStatement && (count == 0 || sql.Length - start < MaxStatementChars))
            {
                var row = rows[done + count];
                if (count > 0) sql.Append(',');
                sql.Append('(');
                for (var c = 0; c < row.Length; c++)
                {
                    if (c > 0) sql.Append(',');
                    SqlLiteral.Append(sql, row[c]);
                }
                sql.Append(')');
                count++;
            }
            if (idColumn is not null)
            {
                sql.Append(CultureInfo.InvariantCulture, $"""
                    ;
                    SELECT LAST_INSERT_ID(), (SELECT COUNT(*) FROM {table} WHERE {idColumn} BETWEEN LAST_INSERT_ID() AND LAST_INSERT_ID() + {(long)(count - 1) * increment}
                      AND {posterColumn} = {posterId})
                    """);
                await using var insert = _db.Command(sql.ToString());
                await using var reader = await insert.ExecuteReaderAsync(ct);
                while (reader.FieldCount == 0 && await reader.NextResultAsync(ct))
                {
                }
                if (!await reader.ReadAsync(ct)) throw new InvalidOperationException($"bulk insert into {table}: no insert id returned");
                var first = reader.Int64At(0);
                var mine = reader.Int64At(1);
                if (mine != count)
                {
                    throw new InvalidOperationException($"bulk insert into {table}: {count} rows did not take consecutive ids from {first} (found {mine}); the batch is rolled back");
                }
                for (var i = 0; i < count; i++) ids.Add(checked((uint)(first + (long)i * increment)));
            }
            else
            {
                await _db.ExecuteAsync(sql.ToString(), ct);
            }
            done += count;
        }
        return ids;
    }
}
