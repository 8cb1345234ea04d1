using AtSync.AtProto.Cids;

namespace AtSync.AtProto.Mst;

/// <summary>
/// One change to a tree as sync 1.1 describes it: the path, its new value (null for a delete) and its previous
/// value (null for a create). An update has both, and they differ.
/// </summary>
public readonly record struct MstOperation(string Path, Cid? Value, Cid? Prev)
{
    public bool IsCreate => Value is not null && Prev is null;

    public bool IsUpdate => Value is { } v && Prev is { } p && v != p;

    public bool IsDelete => Value is null && Prev is not null;

    /// <summary>True for exactly one of create, update or delete.</summary>
    public bool IsWellFormed => IsCreate || IsUpdate || IsDelete;
}

/// <summary>What undoing one <see cref="MstOperation"/> on the tree after it found.</summary>
public enum MstInversion
{
    /// <summary>The tree held the op's result, and now holds what it was before the op.</summary>
    Inverted,

    /// <summary>The op is neither a create, an update nor a delete (e.g. an update whose prev equals its value).</summary>
    MalformedOperation,

    /// <summary>The tree does not hold the op's new value at its path (a create or update not in the tree).</summary>
    ValueNotInTree,

    /// <summary>A deleted path is still in the tree.</summary>
    DeletedPathPresent,

    /// <summary>The tree's blocks do not include a node the inversion needs.</summary>
    IncompleteTree,
}

public sealed partial class MstTree
{
    /// <summary>
    /// Undoes <paramref name="op"/>: a create is removed, an update set back to its prev, a delete re-inserted with
    /// its prev — after checking the tree holds what the op claims to have produced. On anything but
    /// <see cref="MstInversion.Inverted"/> the tree may be partly changed; discard it.
    /// </summary>
    public MstInversion Invert(MstOperation op)
    {
        if (!op.IsWellFormed || op.Path is null)
        {
            return MstInversion.MalformedOperation;
        }

        var key = Utf8(op.Path);
        if (!MstKey.IsValid(key))
        {
            return MstInversion.MalformedOperation;
        }

        try
        {
            if (op.IsCreate)
            {
                return Remove(key) == op.Value ? MstInversion.Inverted : MstInversion.ValueNotInTree;
            }

            if (op.IsUpdate)
            {
                if (Get(key) != op.Value)
                {
                    return MstInversion.ValueNotInTree;
                }

                Insert(key, op.Prev!.Value);
                return MstInversion.Inverted;
            }

            if (Get(key) is not null)
            {
                return MstInversion.DeletedPathPresent;
            }

            Insert(key, op.Prev!.Value);
            return MstInversion.Inverted;
        }
        catch (MstPartialTreeException)
        {
            return MstInversion.IncompleteTree;
        }
    }
}
