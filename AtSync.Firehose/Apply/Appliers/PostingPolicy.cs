using AtSync.Core.Forum;
using AtSync.Firehose.Apply.Mappings;
using AtSync.Firehose.Apply.Phpbb;

namespace AtSync.Firehose.Apply.Appliers;

/// <summary>
/// Whether a network author's post (or edit) is taken, and whether it waits in phpBB's moderation queue: decided here
/// (<see cref="Moderated"/>), or by phpBB's permissions of the forum member <see cref="AskPhpbbFor"/> in the target forum.
/// </summary>
internal readonly record struct Admission(string? Refusal, bool Moderated, uint? AskPhpbbFor = null)
{
    public static Admission Refused(string reason) => new(reason, false);
}

/// <summary>
/// The posting policy (<see cref="PostingOptions"/>) for one author: bans win (the forum's ban of the DID in
/// <c>atproto_did_access</c>, then phpBB's ban of the linked user); then who may post (<c>NETWORK_POSTERS</c>) and
/// whose posts wait (<c>NETWORK_MODERATION</c>). Known authors: the forum's DID, DIDs linked with an AtSync session,
/// DIDs allowed in <c>atproto_did_access</c>; under <c>unknown</c> a linked member's post waits exactly when phpBB's
/// permissions would hold it (no <c>f_noapprove</c> or <c>m_approve</c> in the forum). Topic types beyond normal for the
/// forum's DID and as phpBB's permissions allow (<c>f_sticky</c>, <c>f_announce</c>, <c>f_announce_global</c>).
/// </summary>
internal sealed class PostingPolicy(PostingOptions options, string forumDid, DidAccessRows access, UserLinks links, PhpbbPermissions phpbb)
{
    public async Task<Admission> AdmitAsync(string did, long now, CancellationToken ct)
    {
        if (did == forumDid) return new Admission(null, false);
        var listed = await access.FindAsync(did, ct);
        if (listed == DidAccess.Ban) return Admission.Refused(Outcomes.BannedDid);
        var linked = await links.FindLinkAsync(did, ct);
        if (linked is { } user && await phpbb.IsBannedAsync(user.UserId, now, ct)) return Admission.Refused(Outcomes.BannedUser);
        var known = linked is { HasSession: true } || listed == DidAccess.Allow;
        if (!known && options.PostersValue == NetworkPosters.Known) return Admission.Refused(Outcomes.UnknownPoster);
        return options.ModerationValue switch
        {
            NetworkModeration.None => new Admission(null, false),
            NetworkModeration.All => new Admission(null, true),
            // A forum member posts from the network as from the web: phpBB's f_noapprove / m_approve in the forum decide.
            _ when linked is { HasSession: true } member => new Admission(null, true, member.UserId),
            _ => new Admission(null, !known),
        };
    }

    /// <summary>Whether the admitted post (or edit) in <paramref name="forumId"/> waits for a moderator.</summary>
    public async Task<bool> ModeratedAsync(Admission admission, uint forumId, CancellationToken ct) =>
        admission.AskPhpbbFor is { } member ? !await phpbb.PostsWithoutApprovalAsync(member, forumId, ct) : admission.Moderated;

    /// <summary>Whether <paramref name="did"/> (phpBB user <paramref name="userId"/>) may give a topic in <paramref name="forumId"/> this phpBB topic type.</summary>
    public async Task<bool> AllowsTopicTypeAsync(string did, uint userId, uint forumId, int topicType, CancellationToken ct) =>
        topicType == PhpbbConstants.PostNormal || did == forumDid || (await phpbb.TopicRightsAsync(userId, forumId, ct)).Allows(topicType);
}
