using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace AtSync.Firehose;

/// <summary>Who from the network may post into phpBB (<c>NETWORK_POSTERS</c>).</summary>
public enum NetworkPosters
{
    /// <summary>Any network account (a phpBB user is created for it on its first post).</summary>
    Open,

    /// <summary>Only known DIDs: the forum's own, DIDs linked to a phpBB member through AtSync's linking, DIDs allowed in <c>atproto_did_access</c>.</summary>
    Known,
}

/// <summary>Which network posts wait in phpBB's moderation queue (<c>NETWORK_MODERATION</c>).</summary>
public enum NetworkModeration
{
    /// <summary>Posts of DIDs that are not known (see <see cref="NetworkPosters.Known"/>) wait for approval.</summary>
    Unknown,

    /// <summary>Every network post except the forum's own waits for approval.</summary>
    All,

    /// <summary>No network post waits.</summary>
    None,
}

/// <summary>
/// The posting policy for network posts, phpBB's way (README "Posting policy"): who may post, whose posts wait in the
/// moderation queue (<c>post_visibility</c> ITEM_UNAPPROVED, counted in phpBB's unapproved counters). Sticky,
/// announcement and global topic types are honoured only for the forum's DID and for DIDs linked to phpBB founders,
/// administrators, global moderators or moderators of the board (global: not board moderators); banned phpBB users
/// and DIDs banned in <c>atproto_did_access</c> are refused. The defaults are the safe ones.
/// </summary>
public sealed class PostingOptions
{
    public const string PostersSetting = "NETWORK_POSTERS";
    public const string ModerationSetting = "NETWORK_MODERATION";

    [ConfigurationKeyName(PostersSetting)]
    public string Posters { get; set; } = "open";

    [ConfigurationKeyName(ModerationSetting)]
    public string Moderation { get; set; } = "unknown";

    public NetworkPosters PostersValue => Parse<NetworkPosters>(Posters) ?? NetworkPosters.Open;

    public NetworkModeration ModerationValue => Parse<NetworkModeration>(Moderation) ?? NetworkModeration.Unknown;

    /// <summary>Null when both settings are valid, else the one line that names the bad one (never its value).</summary>
    public string? Problem() =>
        Parse<NetworkPosters>(Posters) is null ? $"{PostersSetting} must be open or known"
        : Parse<NetworkModeration>(Moderation) is null ? $"{ModerationSetting} must be unknown, all or none"
        : null;

    // Names only: Enum.TryParse would also take "1" or "-3".
    private static T? Parse<T>(string? value) where T : struct, Enum =>
        value is not null && value.Trim() is { Length: > 0 } name && char.IsAsciiLetter(name[0])
        && Enum.TryParse<T>(name, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed)
            ? parsed
            : null;
}

/// <summary>A bad posting setting stops the Firehose at start with one line naming it (never its value).</summary>
internal sealed class PostingOptionsValidator : IValidateOptions<PostingOptions>
{
    public ValidateOptionsResult Validate(string? name, PostingOptions options) =>
        options.Problem() is { } problem ? ValidateOptionsResult.Fail(problem) : ValidateOptionsResult.Success;
}
