namespace AtSync.Firehose.Apply.Mappings;

/// <summary>
/// <c>atproto_record_revs</c>: the commit revision of the last operation applied to each forum record. Revisions
/// (TIDs) grow with every commit of a repository: an operation not newer than the last one applied to this record is
/// a replay (or arrived late) and changes nothing.
/// </summary>
internal sealed class RecordRevisions(ForumSession db)
{
    /// <summary>Records <paramref name="rev"/> as the record's latest; false (nothing written) when it is not newer.</summary>
    public async Task<bool> TryAdvanceAsync(string uri, string rev, CancellationToken ct)
    {
        var t = db.Tables;
        if (await db.ScalarAsync($"SELECT rev FROM {t.RecordRevisions} WHERE at_uri = @uri FOR UPDATE", ct, ("@uri", uri)) is string stored
            && string.CompareOrdinal(rev, stored) <= 0)
        {
            return false;
        }
        await db.ExecuteAsync($"INSERT INTO {t.RecordRevisions} (at_uri, rev) VALUES (@uri, @rev) ON DUPLICATE KEY UPDATE rev = @rev", ct,
            ("@uri", uri), ("@rev", rev));
        return true;
    }
}
