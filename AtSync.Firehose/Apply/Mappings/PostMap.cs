using AtSync.Core.Forum;

namespace AtSync.Firehose.Apply.Mappings;

/// <summary>A phpBB post's mapping row in <c>atproto_posts</c>.</summary>
internal sealed record MappedPost(uint PostId, string Uri, string Cid, SyncStatus Status)
{
    /// <summary>Confirmed: the record is known with its CID (published, or received from the network).</summary>
    public bool Confirmed => Status == SyncStatus.Synced && Cid.Length > 0;
}

/// <summary>The phpBB topic a post's AT-URI leads to, and that topic's forum and visibility.</summary>
internal readonly record struct MappedTopic(uint TopicId, uint ForumId, int Visibility);

/// <summary><c>atproto_posts</c>: which phpBB post an AT-URI is, its CID and <see cref="SyncStatus"/>.</summary>
internal sealed class PostMap(ForumSession db)
{
    private static readonly string Synced = SyncStatus.Synced.ToSql();

    /// <summary>The mapping of <paramref name="uri"/>, locked for this transaction; null when the URI is no phpBB post.</summary>
    public Task<MappedPost?> LockByUriAsync(string uri, CancellationToken ct) =>
        ReadAsync($"SELECT post_id, COALESCE(at_uri, ''), COALESCE(at_cid, ''), sync_status FROM {db.Tables.Posts} WHERE at_uri = @uri FOR UPDATE", ("@uri", uri), ct);

    /// <summary>The mapping of phpBB post <paramref name="postId"/>, locked for this transaction.</summary>
    public Task<MappedPost?> LockByPostAsync(uint postId, CancellationToken ct) =>
        ReadAsync($"SELECT post_id, COALESCE(at_uri, ''), COALESCE(at_cid, ''), sync_status FROM {db.Tables.Posts} WHERE post_id = @id FOR UPDATE", ("@id", postId), ct);

    /// <summary>The phpBB post of <paramref name="uri"/> (no lock), or null.</summary>
    public async Task<uint?> PostIdAsync(string uri, CancellationToken ct) =>
        await db.ScalarAsync($"SELECT post_id FROM {db.Tables.Posts} WHERE at_uri = @uri", ct, ("@uri", uri)) is { } found ? RowValues.ToUInt32(found) : null;

    /// <summary>The phpBB topic whose post is <paramref name="rootUri"/> (a reply's <c>reply.root</c>), or null.</summary>
    public async Task<MappedTopic?> TopicOfAsync(string rootUri, CancellationToken ct)
    {
        var t = db.Tables;
        await using var find = db.Command($"""
            SELECT p.topic_id, tp.forum_id, tp.topic_visibility FROM {t.Posts} ap JOIN {t.PhpbbPosts} p ON p.post_id = ap.post_id
            JOIN {t.PhpbbTopics} tp ON tp.topic_id = p.topic_id WHERE ap.at_uri = @uri
            """, ("@uri", rootUri));
        await using var reader = await find.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct)) return null;
        return new MappedTopic(reader.UInt32At(0), reader.UInt32At(1), reader.Int32At(2));
    }

    public Task AddAsync(uint postId, string uri, string cid, string authorDid, bool isTopicStarter, long time, CancellationToken ct) =>
        db.ExecuteAsync($"""
            INSERT INTO {db.Tables.Posts} (post_id, at_uri, at_cid, author_did, is_topic_starter, sync_status, created_at, updated_at)
            VALUES (@post, @uri, @cid, @did, @starter, '{Synced}', @time, @time)
            """, ct, ("@post", postId), ("@uri", uri), ("@cid", cid), ("@did", authorDid), ("@starter", isTopicStarter), ("@time", time));

    /// <summary>The record now has <paramref name="cid"/>: the mapping is confirmed (<see cref="SyncStatus.Synced"/>).</summary>
    public Task ConfirmAsync(uint postId, string cid, long time, CancellationToken ct) =>
        db.ExecuteAsync($"UPDATE {db.Tables.Posts} SET at_cid = @cid, sync_status = @status, updated_at = @time WHERE post_id = @id", ct,
            ("@cid", cid), ("@status", Synced), ("@time", time), ("@id", postId));

    public Task MarkDeletedAsync(uint postId, long time, CancellationToken ct) =>
        db.ExecuteAsync($"UPDATE {db.Tables.Posts} SET sync_status = '{SyncStatus.Deleted.ToSql()}', updated_at = @time WHERE post_id = @id", ct,
            ("@time", time), ("@id", postId));

    private async Task<MappedPost?> ReadAsync(string sql, (string, object?) parameter, CancellationToken ct)
    {
        await using var find = db.Command(sql, parameter);
        await using var reader = await find.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct)) return null;
        return new MappedPost(reader.UInt32At(0), reader.GetString(1), reader.GetString(2), SyncStatusSql.Parse(reader.GetString(3)));
    }
}
