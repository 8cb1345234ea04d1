namespace AtSync.Firehose.Apply.Mappings;

/// <summary><c>atproto_forums</c>: the phpBB forum a board record's AT-URI stands for (remembered for the transaction).</summary>
internal sealed class BoardMap(ForumSession db)
{
    private readonly Dictionary<string, uint?> _forums = new(StringComparer.Ordinal);

    /// <summary>The phpBB forum of <paramref name="boardUri"/>, or null when the board is unknown (or its forum is gone).</summary>
    public async Task<uint?> ForumIdAsync(string boardUri, CancellationToken ct)
    {
        if (_forums.TryGetValue(boardUri, out var known)) return known;
        var t = db.Tables;
        var found = await db.ScalarAsync(
            $"SELECT af.forum_id FROM {t.Forums} af JOIN {t.PhpbbForums} f ON f.forum_id = af.forum_id WHERE af.at_uri = @uri", ct, ("@uri", boardUri));
        var forumId = found is null ? (uint?)null : RowValues.ToUInt32(found);
        _forums[boardUri] = forumId;
        return forumId;
    }
}
