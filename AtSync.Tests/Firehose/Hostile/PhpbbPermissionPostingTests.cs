using AtSync.Core.Forum;
using AtSync.Firehose;
using static AtSync.Tests.Firehose.ForumStreamTests;

namespace AtSync.Tests.Firehose.Hostile;

/// <summary>
/// The posting policy asks phpBB's own permissions (the Firehose as a process, real MariaDB with phpBB 3.3's ACL
/// tables): under <c>NETWORK_MODERATION=unknown</c> a linked member's post is approved exactly when phpBB would approve
/// it (<c>f_noapprove</c> or <c>m_approve</c> in the forum), and a sticky or announcement is kept only with
/// <c>f_sticky</c> / <c>f_announce</c> / <c>f_announce_global</c>. NEVER from any source wins over YES; grants in
/// another forum, pending memberships and groups a leader skips do not count.
/// </summary>
public sealed class PhpbbPermissionPostingTests
{
    private static ForumPostRecord Topic(string subject, string text, string? topicType) =>
        new(text, "2026-07-04T14:59:00.000Z", HostileFirehose.Board, subject, null, null, topicType);

    [Fact]
    public async Task Linked_members_post_approved_and_sticky_only_as_phpbbs_permissions_in_the_forum_allow()
    {
        await using var h = await HostileFirehose.PrepareAsync();
        var acl = new PhpbbAclRows(h.Database);
        var forum = (long)h.ForumId;
        const long StandardRole = 14, NewMemberRole = 16, StickyRole = 20;
        await acl.OptionAsync("m_approve", global: true, local: true);
        await acl.RoleAsync(StandardRole, ("f_post", PhpbbAclRows.Yes), ("f_noapprove", PhpbbAclRows.Yes));
        await acl.RoleAsync(NewMemberRole, ("f_noapprove", PhpbbAclRows.Never));
        await acl.RoleAsync(StickyRole, ("f_sticky", PhpbbAclRows.Yes), ("f_announce", PhpbbAclRows.Yes));
        var registered = await acl.GroupAsync("REGISTERED");
        var newlyRegistered = await acl.GroupAsync("NEWLY_REGISTERED");
        var stickyMakers = await acl.GroupAsync("Sticky makers");
        var noSticky = await acl.GroupAsync("No stickies");
        var skipped = await acl.GroupAsync("Leaders skip", skipAuth: true);
        await acl.GroupRoleAsync(registered, forum, StandardRole);
        await acl.GroupRoleAsync(newlyRegistered, forum, NewMemberRole);
        await acl.GroupRoleAsync(stickyMakers, forum, StickyRole);
        await acl.GroupGrantAsync(noSticky, forum, "f_sticky", PhpbbAclRows.Never);
        await acl.GroupRoleAsync(skipped, forum, StickyRole);

        // did:plc identifiers are 24 base32 characters.
        const string alice = "did:plc:aliceaclaliceaclaliceacl", bob = "did:plc:bobaclbobaclbobaclbobacl",
            carol = "did:plc:carolaclcarolaclcarolacl", dave = "did:plc:daveacldaveacldaveacldav",
            erin = "did:plc:erinaclerinaclerinacleri", frank = "did:plc:frankaclfrankaclfrankacl",
            gina = "did:plc:ginaaclginaaclginaaclgin";
        var members = new Dictionary<string, long>();
        foreach (var (did, name) in new[] { (alice, "alice"), (bob, "bob"), (carol, "carol"), (dave, "dave"), (erin, "erin"), (frank, "frank"), (gina, "gina") })
        {
            members[did] = await h.LinkMemberAsync(did, name);
            if (did != erin) await acl.JoinAsync(registered, members[did]);
        }
        // bob: also a newly registered user, whose role says NEVER for f_noapprove: it wins over REGISTERED's YES.
        await acl.JoinAsync(newlyRegistered, members[bob]);
        // carol: asked to join the sticky makers (pending) and may make stickies only in another forum.
        await acl.JoinAsync(stickyMakers, members[carol], pending: true);
        await acl.UserGrantAsync(members[carol], forum + 100, "f_sticky", PhpbbAclRows.Yes);
        // dave: may make stickies here himself, not announcements (or global ones).
        await acl.UserGrantAsync(members[dave], forum, "f_sticky", PhpbbAclRows.Yes);
        // erin: in no group at all, but a global moderator's m_approve.
        await acl.UserGrantAsync(members[erin], 0, "m_approve", PhpbbAclRows.Yes);
        // frank: a sticky maker, but also in a group with f_sticky NEVER.
        await acl.JoinAsync(stickyMakers, members[frank]);
        await acl.JoinAsync(noSticky, members[frank]);
        // gina: leads a group that skips permissions: its role does not count for her.
        await acl.JoinAsync(skipped, members[gina], leader: true);

        var posts = new (string Did, string? Type)[]
        {
            (alice, null), (bob, null), (carol, ForumTopicType.Sticky), (dave, ForumTopicType.Sticky), (dave, ForumTopicType.Announcement),
            (erin, null), (frank, ForumTopicType.Sticky), (frank, ForumTopicType.Announcement), (gina, ForumTopicType.Announcement), (gina, ForumTopicType.Global),
        };
        await h.RunAsync([.. posts.Select((p, i) => ((long)i + 1, h.Frames.Post(i + 1, p.Did, $"3ktopic{i + 1:00000}", Topic($"topic {i + 1}", "text", p.Type), HostileFirehose.T0.AddSeconds(i)).Frame))]);

        var t = h.Database.Tables;
        var topics = await RowsAsync(h.Database, $"SELECT topic_title, topic_type, topic_visibility FROM {t.PhpbbTopics} ORDER BY topic_id");
        Assert.Equal(posts.Select((_, i) => $"topic {i + 1}"), topics.Select(r => (string)r["topic_title"]!));
        // Visibility: 1 approved, 0 waiting (bob's NEVER).
        Assert.Equal([1L, 0L, 1L, 1L, 1L, 1L, 1L, 1L, 1L, 1L], topics.Select(r => (long)r["topic_visibility"]!));
        // Type: 1 sticky (dave's own grant), 2 announcement (frank's role: his NEVER is for f_sticky only); every other asked type posted as normal.
        Assert.Equal([0L, 0L, 0L, 1L, 0L, 0L, 0L, 2L, 0L, 0L], topics.Select(r => (long)r["topic_type"]!));
        Assert.Equal(5, await h.SkippedAsync(Outcomes.TopicTypeNotAllowed, 5));
        Assert.Equal(1, await h.ForumOpsAsync(Outcomes.Unapproved, 1));
    }
}
