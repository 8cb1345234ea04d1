using AtSync.AtProto.Cids;

namespace AtSync.AtProto.Mst;

/// <summary>
/// An operation needed a node the tree does not hold (a partial tree loaded from a commit's blocks, where only the
/// nodes a change touches are present). For a firehose commit this means its blocks do not prove its ops.
/// </summary>
public sealed class MstPartialTreeException : AtProtoDataException
{
    public MstPartialTreeException(Cid missing) : base($"MST node {missing} is not in the tree's blocks") => Missing = missing;

    /// <summary>The node that was needed.</summary>
    public Cid Missing { get; }
}
