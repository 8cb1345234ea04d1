using AtSync.AtProto.Cids;

namespace AtSync.AtProto.EventStream;

public enum RepoAction
{
    Create,
    Update,
    Delete,
}

/// <summary>One repo operation of a <see cref="CommitEvent"/>: action, <c>collection/rkey</c> path, new CID and previous CID.</summary>
public sealed class RepoOp
{
    private readonly int _slash;
    private string? _collection;
    private string? _recordKey;

    public RepoOp(RepoAction action, string path, Cid? cid, Cid? prev = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        _slash = path.IndexOf('/');
        if (_slash <= 0 || _slash == path.Length - 1 || path.IndexOf('/', _slash + 1) >= 0)
        {
            throw new FrameFormatException($"op path must be 'collection/rkey', got '{path}'");
        }

        Action = action;
        Path = path;
        Cid = cid;
        Prev = prev;
    }

    public RepoAction Action { get; }

    /// <summary><c>collection/rkey</c>.</summary>
    public string Path { get; }

    /// <summary>The NSID of the collection (the part of <see cref="Path"/> before the slash).</summary>
    public string Collection => _collection ??= Path[.._slash];

    /// <summary>The record key (the part of <see cref="Path"/> after the slash).</summary>
    public string RecordKey => _recordKey ??= Path[(_slash + 1)..];

    /// <summary>The new record's CID for create/update; null for delete.</summary>
    public Cid? Cid { get; }

    /// <summary>The previous record's CID for update/delete (sync v1.1), or null.</summary>
    public Cid? Prev { get; }

    /// <summary>True when the collection part of the path equals <paramref name="collection"/>, without allocating.</summary>
    public bool IsInCollection(ReadOnlySpan<char> collection) => Path.AsSpan(0, _slash).SequenceEqual(collection);

    public override string ToString() => $"{Action} {Path} {Cid}";
}
