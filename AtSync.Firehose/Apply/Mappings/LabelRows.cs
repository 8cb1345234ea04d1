using AtSync.Core.Forum;
using AtSync.Core.Storage;

namespace AtSync.Firehose.Apply.Mappings;

/// <summary><c>atproto_labels</c>: labels from the labeler per subject, value and source.</summary>
internal sealed class LabelRows(ForumSession db)
{
    public Task SaveAsync(LabelRecord label, long time, CancellationToken ct) =>
        db.ExecuteAsync($"""
            INSERT INTO {db.Tables.Labels} (subject_uri, label_value, label_src, subject_cid, negated, expires_at, created_at, updated_at)
            VALUES (@uri, @val, @src, @cid, @neg, @exp, @time, @time)
            ON DUPLICATE KEY UPDATE subject_cid = @cid, negated = @neg, expires_at = @exp, updated_at = @time
            """, ct,
            ("@uri", label.Uri), ("@val", label.Value), ("@src", label.Src), ("@cid", label.Cid), ("@neg", label.Negated ? 1 : 0),
            // Rounded up: a label stays in force until the end of the second it expires in; one that expired before
            // 1970 is stored as expired at 0 (the column is unsigned).
            ("@exp", label.Expires is { } expires ? Math.Max(0L, (long)Math.Ceiling(expires.ToUnixTimeMilliseconds() / 1000.0)) : null),
            ("@time", time));

    /// <summary>Whether the label's fields fit their ASCII columns (AT identifiers and label values are ASCII).</summary>
    public static bool Fits(LabelRecord label) =>
        AsciiColumn.Fits(label.Uri, 760) && AsciiColumn.Fits(label.Value, 128) && AsciiColumn.Fits(label.Src, 255)
        && (label.Cid is null || AsciiColumn.Fits(label.Cid, 128));

    /// <summary>True while a live (not negated, not expired) <c>!hide</c> from <paramref name="labelerDid"/> covers <paramref name="uri"/>.</summary>
    public async Task<bool> IsHiddenAsync(string uri, string labelerDid, long time, CancellationToken ct) =>
        await db.CountAsync($"""
            SELECT COUNT(*) FROM {db.Tables.Labels} WHERE subject_uri = @uri AND label_value = '{ModerationLabels.Hide}' AND label_src = @src
              AND negated = 0 AND (expires_at IS NULL OR expires_at > @time)
            """, ct, ("@uri", uri), ("@src", labelerDid), ("@time", time)) > 0;
}
