using System.Text.Json;
using AtSync.Core.Forum;

namespace AtSync.Firehose.Apply.Mappings;

/// <summary>A reply that arrived before its topic's first post.</summary>
internal sealed record ParkedReply(string Uri, string AuthorDid, string Cid, ForumPostRecord? Record, long EventTime, long Seq);

/// <summary>
/// <c>atproto_parked_posts</c>: replies whose topic is not in phpBB yet wait here (with their record as JSON) until the
/// topic's first post arrives.
/// </summary>
internal sealed class ParkedPosts(ForumSession db)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public Task ParkAsync(string did, string uri, string cid, ForumPostRecord record, string rootUri, long time, long seq, CancellationToken ct) =>
        db.ExecuteAsync($"""
            INSERT INTO {db.Tables.ParkedPosts} (at_uri, root_uri, author_did, at_cid, record_json, event_time, seq, created_at)
            VALUES (@uri, @root, @did, @cid, @json, @time, @seq, @time)
            ON DUPLICATE KEY UPDATE at_cid = @cid, record_json = @json
            """, ct, ("@uri", uri), ("@root", rootUri), ("@did", did), ("@cid", cid), ("@json", JsonSerializer.Serialize(record, Json)),
            ("@time", time), ("@seq", seq));

    /// <summary>A parked reply edited before its topic arrived keeps its newest record; false when it is not parked.</summary>
    public async Task<bool> TryReplaceAsync(string uri, string cid, ForumPostRecord record, CancellationToken ct) =>
        await db.ExecuteAsync($"UPDATE {db.Tables.ParkedPosts} SET at_cid = @cid, record_json = @json WHERE at_uri = @uri", ct,
            ("@cid", cid), ("@json", JsonSerializer.Serialize(record, Json)), ("@uri", uri)) > 0;

    /// <summary>Removes a parked reply (its record was deleted); false when it is not parked.</summary>
    public async Task<bool> RemoveAsync(string uri, CancellationToken ct) =>
        await db.ExecuteAsync($"DELETE FROM {db.Tables.ParkedPosts} WHERE at_uri = @uri", ct, ("@uri", uri)) > 0;

    /// <summary>Takes (reads and removes) the replies waiting for <paramref name="rootUri"/>, in stream order.</summary>
    public async Task<IReadOnlyList<ParkedReply>> TakeAsync(string rootUri, CancellationToken ct)
    {
        var parked = new List<ParkedReply>();
        await using (var find = db.Command(
            $"SELECT at_uri, author_did, at_cid, record_json, event_time, seq FROM {db.Tables.ParkedPosts} WHERE root_uri = @root ORDER BY seq, at_uri FOR UPDATE",
            ("@root", rootUri)))
        {
            await using var reader = await find.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                parked.Add(new ParkedReply(reader.GetString(0), reader.GetString(1), reader.GetString(2),
                    JsonSerializer.Deserialize<ForumPostRecord>(reader.GetString(3), Json), reader.Int64At(4), reader.Int64At(5)));
            }
        }
        foreach (var reply in parked) await RemoveAsync(reply.Uri, ct);
        return parked;
    }
}
