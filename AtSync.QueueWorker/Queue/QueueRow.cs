using AtSync.Core.Forum;

namespace AtSync.QueueWorker.Queue;

/// <summary>
/// A claimed <c>atproto_queue</c> row. <see cref="Attempts"/> already counts this attempt (the claim increments it) and
/// is the row's fencing token: finishing the row succeeds only while it is still <c>processing</c> with this count.
/// </summary>
public sealed record QueueRow(
    long Id,
    QueueOperation Operation,
    string Collection,
    string Rkey,
    string? RecordData,
    string UserDid,
    long? LocalId,
    int Attempts,
    int MaxAttempts)
{
    /// <summary>
    /// True when an earlier attempt of this create may have reached the PDS (its worker crashed, timed out or lost
    /// the connection): the write then goes out as an idempotent <c>putRecord</c> at the same rkey, never as a
    /// second <c>createRecord</c>.
    /// </summary>
    public bool MayHaveBeenWritten => Attempts > 1;

    /// <summary>A board row (<c>local_id</c> is a phpBB forum id, written with the forum account's session).</summary>
    public bool IsBoard => Collection == ForumLexicon.Board;
}
