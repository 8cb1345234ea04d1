using AtSync.Firehose.Events;

namespace AtSync.Firehose.Verify.Jetstream;

public enum RecordCheckStatus
{
    /// <summary>The author's PDS proved the event: a create/update's record CID, or a delete's absence.</summary>
    Proven,

    /// <summary>The proof contradicts the event, or is not a proof: not applied, counted by <see cref="RecordCheck.Reason"/>.</summary>
    Refused,

    /// <summary>No answer now (PDS or directory unreachable): the author's events wait and are asked for again, bounded.</summary>
    Unavailable,
}

/// <summary>
/// The verdict on one Jetstream commit. <see cref="Commit"/> is what may be applied: for a create/update its one op
/// carries the record read from the proven block (not the Jetstream's JSON).
/// </summary>
public sealed record RecordCheck(RecordCheckStatus Status, string Reason, CommitEvent? Commit = null)
{
    public static RecordCheck Refused(string reason) => new(RecordCheckStatus.Refused, reason);

    public static RecordCheck Unavailable(string reason) => new(RecordCheckStatus.Unavailable, reason);
}

/// <summary>Refusal reasons (the <c>reason</c> tag of <c>atsync.firehose.skipped</c>).</summary>
public static class RecordRefusals
{
    public const string NotFound = "record_not_found";
    public const string Tampered = "record_tampered";
    public const string CidMismatch = "record_cid_mismatch";
    public const string StillPresent = "record_still_present";
    public const string RevAhead = "record_rev_ahead_of_pds";
    public const string AuthorUnresolved = "author_unresolved";
    public const string NoPds = "author_has_no_pds";
    public const string NoKey = "author_has_no_key";
    public const string PdsUnavailable = "pds_unavailable";

    /// <summary>A held event over <c>Jetstream__MaxHeldPerAuthor</c>: dropped.</summary>
    public const string HeldOverLimit = "held_over_limit";

    /// <summary><c>proof_</c> + the rejection in snake case, e.g. <c>proof_block_hash_mismatch</c> (a tampered block).</summary>
    public static string Proof(AtSync.AtProto.Sync.RepoRejection rejection)
    {
        var name = rejection.ToString();
        var builder = new System.Text.StringBuilder("proof_", 40);
        for (var i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0) builder.Append('_');
            builder.Append(char.ToLowerInvariant(name[i]));
        }
        return builder.ToString();
    }
}
