namespace AtSync.Core.Forum;

/// <summary>
/// A <c>net.vza.forum.post</c> record (<c>lexicons/net.vza.forum.post.json</c>), the fields AtSync reads and writes:
/// read from the network's DAG-CBOR by <see cref="ForumPostRecordCbor"/>, written for a PDS as JSON by
/// <see cref="ForumPostRecordJson"/>. <see cref="Text"/> is BBCode as its author typed it; <see cref="Subject"/> and
/// <see cref="TopicType"/> belong to a topic's first post, <see cref="ReplyRoot"/>/<see cref="ReplyParent"/> to replies.
/// </summary>
public sealed record ForumPostRecord(
    string Text,
    string? CreatedAt,
    StrongRef Forum,
    string? Subject,
    StrongRef? ReplyRoot,
    StrongRef? ReplyParent,
    string? TopicType,
    bool EnableBbcode = true,
    bool EnableSmilies = true,
    bool EnableSignature = true)
{
    public bool IsReply => ReplyRoot is not null;
}
