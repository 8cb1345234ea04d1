namespace AtSync.QueueWorker.Boards;

/// <summary>
/// The columns of a phpBB forum (<c>phpbb_forums</c>) that its board record shows. <paramref name="ParentId"/> is
/// phpBB's <c>parent_id</c> when that forum exists (else 0: the board is top-level).
/// </summary>
public sealed record PhpbbForum(
    long ForumId, string Name, string Description, string DescriptionUid, string Rules, string RulesUid, int Type, int Status, long LeftId,
    long ParentId = 0, string Link = "");
