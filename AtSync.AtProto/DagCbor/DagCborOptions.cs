namespace AtSync.AtProto.DagCbor;

/// <summary>Limits and strictness for decoding DAG-CBOR. Lengths from the wire are checked against these before anything is allocated.</summary>
public sealed record DagCborOptions
{
    /// <summary>AT Protocol defaults: no floats, depth 64, items up to 2,000,000 bytes.</summary>
    public static DagCborOptions Default { get; } = new();

    /// <summary>Deepest nesting of arrays and maps accepted by <see cref="DagCborReader.SkipValue"/> and <see cref="DagCborReader.ReadValue"/>.</summary>
    public int MaxDepth { get; init; } = 64;

    /// <summary>Longest single string or byte string, in bytes (also always bounded by the remaining input).</summary>
    public int MaxItemLength { get; init; } = 2_000_000;

    /// <summary>Most elements in one array or entries in one map (also always bounded by the remaining input).</summary>
    public int MaxCollectionLength { get; init; } = 1_000_000;

    /// <summary>
    /// DAG-CBOR permits finite 64-bit floats; the AT Protocol data model forbids floats entirely, so the default is false.
    /// NaN, infinities and 16/32-bit floats are rejected either way.
    /// </summary>
    public bool AllowFloats { get; init; }
}
