namespace AtSync.AtProto.EventStream;

/// <summary>A <c>com.atproto.label.defs#label</c>.</summary>
public sealed record Label
{
    /// <summary>Label format version, or null.</summary>
    public long? Ver { get; init; }

    /// <summary>DID of the labeler.</summary>
    public required string Src { get; init; }

    /// <summary>The subject: an AT-URI (record) or a DID (account).</summary>
    public required string Uri { get; init; }

    /// <summary>Optional CID (string form) of the specific record version.</summary>
    public string? Cid { get; init; }

    public required string Val { get; init; }

    /// <summary>True when this label negates (removes) an earlier one.</summary>
    public bool Neg { get; init; }

    /// <summary>Creation timestamp.</summary>
    public required string Cts { get; init; }

    /// <summary>Expiry timestamp, or null.</summary>
    public string? Exp { get; init; }

    /// <summary>Signature bytes, or null.</summary>
    public ReadOnlyMemory<byte>? Sig { get; init; }

    /// <summary>
    /// What <see cref="Sig"/> signs: the label's DAG-CBOR as received, without its <c>sig</c> entry (set by the
    /// decoder; empty for labels built in code). Verified with <see cref="Crypto.LabelSignature"/>.
    /// </summary>
    public ReadOnlyMemory<byte> UnsignedBytes { get; init; }
}
