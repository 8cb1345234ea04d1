using AtSync.Core.Forum;

namespace AtSync.Firehose.Apply.Mappings;

/// <summary><c>atproto_forums</c>: the phpBB forum a board record's AT-URI stands for (remembered for the transaction).</summary>
internal sealed class BoardMap(ForumSession db)
{
    private readonly Dictionary<string, (uint ForumId, bool Postable)?> _forums = new(StringComparer.Ordinal);

    /// <summary>
    /// The phpBB forum of <paramref name="boardUri"/> and whether it takes posts (a FORUM_POST forum, not a category
    /// or link), or null when the board is unknown (or its forum is gone).
    /// </summary>
    public async Task<(uint ForumId, bool Postable)?> ForumAsync(string boardUri, CancellationToken ct)
    {
        if (_forums.TryGetValue(boardUri, out var known)) return known;
        var t = db.Tables;
        (uint ForumId, bool Postable)? forum = null;
        await using (var command = db.Command(
            $"SELECT af.forum_id, f.forum_type FROM {t.Forums} af JOIN {t.PhpbbForums} f ON f.forum_id = af.forum_id WHERE af.at_uri = @uri", ("@uri", boardUri)))
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            if (await reader.ReadAsync(ct)) forum = (reader.UInt32At(0), reader.Int32At(1) == PhpbbConstants.ForumPost);
        }
        _forums[boardUri] = forum;
        return forum;
    }
}
