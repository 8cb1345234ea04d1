namespace AtSync.Core.Forum;

/// <summary>A strong reference to a record: its AT-URI and CID (<c>com.atproto.repo.strongRef</c>'s shape).</summary>
public sealed record StrongRef(string Uri, string Cid);
