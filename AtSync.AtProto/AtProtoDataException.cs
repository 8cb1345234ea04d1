namespace AtSync.AtProto;

/// <summary>
/// Base type for every error raised while decoding AT Protocol wire data (DAG-CBOR, CIDs, CAR files,
/// event-stream frames, data-model JSON). <see cref="Offset"/> is the byte (or character) position in the
/// input where the problem was found, or -1 when no single position applies.
/// </summary>
public class AtProtoDataException : Exception
{
    public AtProtoDataException(string reason, long offset = -1, Exception? inner = null)
        : base(offset >= 0 ? $"{reason} (at offset {offset})" : reason, inner)
    {
        Reason = reason;
        Offset = offset;
    }

    /// <summary>What was wrong, without the position.</summary>
    public string Reason { get; }

    /// <summary>Position in the input, or -1.</summary>
    public long Offset { get; }
}
