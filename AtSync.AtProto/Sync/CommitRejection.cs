namespace AtSync.AtProto.Sync;

/// <summary>Why a <c>#commit</c> was not accepted as verified (<see cref="None"/> when it was). Each is counted on its own.</summary>
public enum CommitRejection
{
    /// <summary>Verified: signed by the repository's key, and its ops invert the signed tree to <c>prevData</c>.</summary>
    None,

    /// <summary>The commit block is missing from the CAR or is not a valid commit object.</summary>
    MalformedCommit,

    /// <summary>The commit block's <c>did</c>, <c>rev</c> or version disagree with the event (or <c>rev</c> is not a TID).</summary>
    CommitMismatch,

    /// <summary>The signature does not verify with the repository's <c>#atproto</c> key (or no key was found).</summary>
    BadSignature,

    /// <summary>The event has no <c>prevData</c> (a pre-sync-1.1 commit): its ops cannot be checked against the tree.</summary>
    MissingPrevData,

    /// <summary>An op is not a well-formed create/update/delete (path, CID and <c>prev</c> shape), or a path repeats.</summary>
    MalformedOp,

    /// <summary>A create or update whose new CID is not what the signed tree holds at its path.</summary>
    OpNotInTree,

    /// <summary>A deleted path is still in the signed tree.</summary>
    DeletedPathPresent,

    /// <summary>The CAR lacks a tree node needed to check the ops (the blocks do not prove them).</summary>
    IncompleteProof,

    /// <summary>Undoing the ops (with their <c>prev</c> CIDs) does not give the tree <c>prevData</c> names: a wrong <c>prev</c>, or an op left out.</summary>
    InvertedRootMismatch,

    /// <summary>The MST in the CAR is not canonical (bad node, keys out of order or on the wrong layer).</summary>
    MalformedTree,

    /// <summary>The <c>rev</c> is not newer than the last verified commit of this repository.</summary>
    StaleRev,

    /// <summary><c>prevData</c> or <c>since</c> does not follow the last verified commit of this repository: commits were missed.</summary>
    ChainBroken,
}
