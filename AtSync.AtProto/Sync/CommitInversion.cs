using AtSync.AtProto.Cids;
using AtSync.AtProto.EventStream;
using AtSync.AtProto.Mst;

namespace AtSync.AtProto.Sync;

/// <summary>Undoes a commit's ops on the partial tree its blocks hold and compares the result with <c>prevData</c>.</summary>
internal static class CommitInversion
{
    public static CommitVerdict Invert(CommitEvent commit, Cid data, Cid prevData)
    {
        try
        {
            return InvertCore(commit, MstTree.Load(data, commit.Blocks, maxNodes: commit.Blocks.BlockCount, everyKeyLayer: false), prevData);
        }
        catch (MstFormatException ex)
        {
            // Nodes are checked as the ops reach them.
            return CommitVerdict.Reject(CommitRejection.MalformedTree, ex.Reason);
        }
    }

    private static CommitVerdict InvertCore(CommitEvent commit, MstTree tree, Cid prevData)
    {
        var ops = commit.Ops;
        var seen = ops.Count > 8 ? new HashSet<string>(StringComparer.Ordinal) : null;
        for (var i = 0; i < ops.Count; i++)
        {
            var op = ops[i];
            if (seen is not null ? !seen.Add(op.Path) : Repeats(ops, i))
            {
                return CommitVerdict.Reject(CommitRejection.MalformedOp, $"path {op.Path} appears twice");
            }

            var mst = ToMstOperation(op);
            if (mst is null)
            {
                return CommitVerdict.Reject(CommitRejection.MalformedOp, $"{op.Action} {op.Path}: CID and prev do not fit the action");
            }

            switch (tree.Invert(mst.Value))
            {
                case MstInversion.Inverted:
                    break;
                case MstInversion.ValueNotInTree:
                    return CommitVerdict.Reject(CommitRejection.OpNotInTree, op.Path);
                case MstInversion.DeletedPathPresent:
                    return CommitVerdict.Reject(CommitRejection.DeletedPathPresent, op.Path);
                case MstInversion.IncompleteTree:
                    return CommitVerdict.Reject(CommitRejection.IncompleteProof, op.Path);
                default:
                    return CommitVerdict.Reject(CommitRejection.MalformedOp, op.Path);
            }
        }

        Cid root;
        try
        {
            root = tree.RootCid();
        }
        catch (MstPartialTreeException)
        {
            return CommitVerdict.Reject(CommitRejection.IncompleteProof, "root");
        }

        return root == prevData ? new CommitVerdict(CommitRejection.None) : CommitVerdict.Reject(CommitRejection.InvertedRootMismatch);
    }

    /// <summary>The op as an MST change, or null when its CID/prev do not fit its action.</summary>
    private static MstOperation? ToMstOperation(RepoOp op)
    {
        var m = new MstOperation(op.Path, op.Cid, op.Prev);
        var fits = op.Action switch
        {
            RepoAction.Create => m.IsCreate,
            RepoAction.Update => m.IsUpdate,
            RepoAction.Delete => m.IsDelete,
            _ => false,
        };
        return fits ? m : null;
    }

    private static bool Repeats(IReadOnlyList<RepoOp> ops, int index)
    {
        for (var j = 0; j < index; j++)
        {
            if (string.Equals(ops[j].Path, ops[index].Path, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}
