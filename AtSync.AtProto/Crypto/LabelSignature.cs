using AtSync.AtProto.EventStream;

namespace AtSync.AtProto.Crypto;

/// <summary>What a label's signature check found.</summary>
public enum LabelSignatureStatus
{
    /// <summary>The <c>sig</c> verifies over the label's DAG-CBOR without <c>sig</c> with the labeler's key.</summary>
    Valid,

    /// <summary>The label carries no <c>sig</c>.</summary>
    Unsigned,

    /// <summary>The <c>sig</c> does not verify with the key (tampered, signed by another key, malformed).</summary>
    Invalid,
}

/// <summary>
/// Label signatures (atproto "Labels": signed by the labeler's <c>#atproto_label</c> key, 64-byte low-S r ‖ s over
/// SHA-256 of the label's DAG-CBOR without <c>sig</c>). Checked over the bytes as received
/// (<see cref="Label.UnsignedBytes"/>), so fields a labeler writes that this decoder does not keep still count.
/// </summary>
public static class LabelSignature
{
    public static LabelSignatureStatus Check(Label label, PublicKey labelKey)
    {
        ArgumentNullException.ThrowIfNull(label);
        ArgumentNullException.ThrowIfNull(labelKey);
        if (label.Sig is not { } sig || sig.Length == 0) return LabelSignatureStatus.Unsigned;
        if (label.UnsignedBytes.IsEmpty) return LabelSignatureStatus.Invalid;
        return labelKey.Verify(label.UnsignedBytes.Span, sig.Span) ? LabelSignatureStatus.Valid : LabelSignatureStatus.Invalid;
    }
}
