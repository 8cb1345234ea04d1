using AtSync.AtProto.DagCbor;

namespace AtSync.AtProto.Car;

/// <summary>Limits for reading a CAR file; every length from the wire is checked against them before use.</summary>
public sealed record CarReadOptions
{
    public static CarReadOptions Default { get; } = new();

    /// <summary>Largest CAR accepted (the firehose limit for a commit's blocks is 2,000,000 bytes).</summary>
    public int MaxCarLength { get; init; } = 2_000_000;

    /// <summary>Largest single block (CID + data).</summary>
    public int MaxBlockLength { get; init; } = 2_000_000;

    /// <summary>Most blocks in one CAR.</summary>
    public int MaxBlocks { get; init; } = 100_000;

    /// <summary>Check every block's bytes hash to its CID while reading (a <see cref="CarException"/> on mismatch).</summary>
    public bool VerifyBlocks { get; init; } = true;

    /// <summary>Options for the DAG-CBOR header.</summary>
    public DagCborOptions DagCbor { get; init; } = DagCborOptions.Default;
}
