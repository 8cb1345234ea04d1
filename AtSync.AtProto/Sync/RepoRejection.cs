namespace AtSync.AtProto.Sync;

/// <summary>Why a repository CAR (<c>getRepo</c>) or a record proof (<c>getRecord</c>) was refused (<see cref="None"/> when accepted).</summary>
public enum RepoRejection
{
    None,

    /// <summary>Larger than the configured bounds (bytes, blocks, nodes or one record).</summary>
    TooLarge,

    /// <summary>Not a readable CAR v1 (bad header, framing, or truncated inside a block).</summary>
    MalformedCar,

    /// <summary>A block's bytes do not hash to its CID (tampered).</summary>
    BlockHashMismatch,

    /// <summary>The CAR has no root, or its root is not a valid commit object.</summary>
    MalformedCommit,

    /// <summary>The commit is for another repository (DID) or is not version 3.</summary>
    CommitMismatch,

    /// <summary>The commit's signature does not verify with the repository's key (or no key was given).</summary>
    BadSignature,

    /// <summary>An MST node is not canonical.</summary>
    MalformedTree,

    /// <summary>A tree node or record block the repository needs is not in the CAR (truncated or incomplete).</summary>
    MissingBlock,

    /// <summary>A record block is not strict DAG-CBOR.</summary>
    MalformedRecord,

    /// <summary>A record proof proves a different CID than the one expected (or the record's presence when absence was expected).</summary>
    UnexpectedValue,
}
