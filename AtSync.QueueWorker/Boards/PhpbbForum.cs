namespace AtSync.QueueWorker.Boards;

/// <summary>The columns of a phpBB forum (<c>phpbb_forums</c>) that its board record shows.</summary>
public sealed record PhpbbForum(
    long ForumId, string Name, string Description, string DescriptionUid, string Rules, string RulesUid, int Type, int Status, long LeftId);
