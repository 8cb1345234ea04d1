using System.Text;
using AtSync.AtProto.Sync;

namespace AtSync.Firehose.Verify;

/// <summary>The metric tag and <c>atproto_repos.reason</c> of each <see cref="CommitRejection"/> (snake case: <c>op_not_in_tree</c>).</summary>
public static class RejectionReasons
{
    /// <summary>A parked repository's key could not be had.</summary>
    public const string KeyUnavailable = "key_unavailable";

    /// <summary>Held commits dropped after the retry bounds (attempts or age).</summary>
    public const string GaveUpKeyUnavailable = "gave_up_key_unavailable";

    /// <summary>A parked repository's Jetstream events could not be proven: the author's PDS could not be asked.</summary>
    public const string PdsUnavailable = "pds_unavailable";

    /// <summary>Held Jetstream events dropped after the retry bounds (attempts or age).</summary>
    public const string GaveUpPdsUnavailable = "gave_up_pds_unavailable";

    /// <summary>A commit that would pass its repository's bound of held commits (<c>Firehose__MaxHeldPerRepo</c>): dropped, the repository desynchronized.</summary>
    public const string HeldOverLimit = "held_over_limit";

    public static string Of(CommitRejection rejection)
    {
        var name = rejection.ToString();
        var builder = new StringBuilder(name.Length + 4);
        for (var i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0) builder.Append('_');
            builder.Append(char.ToLowerInvariant(name[i]));
        }
        return builder.ToString();
    }
}
