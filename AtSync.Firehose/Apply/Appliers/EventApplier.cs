using AtSync.Firehose.Apply.Mappings;
using AtSync.Firehose.Apply.Phpbb;
using AtSync.Firehose.Events;

namespace AtSync.Firehose.Apply.Appliers;

/// <summary>
/// Routes each event of a batch to its applier; all of them write through one <see cref="ForumSession"/> (one
/// transaction), using phpBB's semantics (<c>Apply/Phpbb/</c>) and AtSync's mappings (<c>Apply/Mappings/</c>).
/// </summary>
internal sealed class EventApplier
{
    private readonly PostOpApplier _posts;
    private readonly AccountApplier _accounts;
    private readonly LabelApplier _labels;

    /// <param name="posting">The posting policy's settings (the safe defaults when null).</param>
    /// <param name="forumDid">The forum's own DID: its posts are never moderated and may set any topic type.</param>
    public EventApplier(ForumSession db, string labelerDid, IReadOnlyDictionary<string, string?> handles, BatchOutcome outcome,
        PostingOptions? posting = null, string forumDid = "")
    {
        var postMap = new PostMap(db);
        var links = new UserLinks(db);
        var accounts = new AccountRows(db);
        var users = new PhpbbUsers(db);
        var topics = new PhpbbVisibility(db);
        var visibility = new PostVisibility(postMap, new LabelRows(db), topics, labelerDid);
        _posts = new PostOpApplier(new RecordRevisions(db), postMap, new ParkedPosts(db), new BoardMap(db),
            new Authors(links, accounts, users, handles), new PhpbbPosts(db), topics, visibility,
            new PostingPolicy(posting ?? new PostingOptions(), forumDid, new DidAccessRows(db), links, new PhpbbPermissions(db)), outcome);
        _accounts = new AccountApplier(links, accounts, users, new PhpbbRenames(db), handles, outcome);
        _labels = new LabelApplier(postMap, new LabelRows(db), visibility, labelerDid, outcome);
    }

    public async Task ApplyAsync(StreamEvent streamEvent, CancellationToken ct)
    {
        switch (streamEvent)
        {
            case CommitEvent commit:
                foreach (var op in commit.ForumOps) await _posts.ApplyAsync(commit, op, ct);
                break;
            case IdentityEvent identity:
                await _accounts.ApplyAsync(identity, ct);
                break;
            case AccountEvent account:
                await _accounts.ApplyAsync(account, ct);
                break;
            case LabelsEvent labels:
                foreach (var label in labels.Labels) await _labels.ApplyAsync(label, ct);
                break;
        }
    }
}
