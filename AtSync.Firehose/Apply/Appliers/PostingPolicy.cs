using AtSync.Core.Forum;
using AtSync.Firehose.Apply.Mappings;
using AtSync.Firehose.Apply.Phpbb;

namespace AtSync.Firehose.Apply.Appliers;

/// <summary>Whether a network author's post (or edit) is taken, and whether it waits in phpBB's moderation queue.</summary>
internal readonly record struct Admission(string? Refusal, bool Moderated)
{
    public static Admission Refused(string reason) => new(reason, false);
}

/// <summary>
/// The posting policy (<see cref="PostingOptions"/>) for one author: bans win (the forum's ban of the DID in
/// <c>atproto_did_access</c>, then phpBB's ban of the linked user); then who may post (<c>NETWORK_POSTERS</c>) and
/// whose posts wait (<c>NETWORK_MODERATION</c>). Known authors: the forum's DID, DIDs linked with an AtSync session,
/// DIDs allowed in <c>atproto_did_access</c>. Topic types beyond normal only for the forum's DID and phpBB's staff.
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
        var moderated = options.ModerationValue switch
        {
            NetworkModeration.None => false,
            NetworkModeration.All => true,
            _ => !known,
        };
        return new Admission(null, moderated);
    }

    /// <summary>Whether <paramref name="did"/> (phpBB user <paramref name="userId"/>) may give a topic in <paramref name="forumId"/> this phpBB topic type.</summary>
    public async Task<bool> AllowsTopicTypeAsync(string did, uint userId, uint forumId, int topicType, CancellationToken ct) =>
        topicType == PhpbbConstants.PostNormal || did == forumDid || (await phpbb.TopicRightsAsync(userId, forumId, ct)).Allows(topicType);
}
