using AtSync.AtProto.Car;
using AtSync.AtProto.DagCbor;

namespace AtSync.AtProto.EventStream;

/// <summary>Limits for decoding event-stream frames.</summary>
public sealed record FrameDecodeOptions
{
    public static FrameDecodeOptions Default { get; } = new();

    /// <summary>Largest frame accepted.</summary>
    public int MaxFrameLength { get; init; } = 5_000_000;

    /// <summary>Most ops in one commit (the lexicon's limit is 200).</summary>
    public int MaxOps { get; init; } = 200;

    /// <summary>Most labels in one <c>#labels</c> message.</summary>
    public int MaxLabels { get; init; } = 10_000;

    /// <summary>CAR limits (2,000,000 bytes) and block verification (on by default).</summary>
    public CarReadOptions Car { get; init; } = CarReadOptions.Default;

    public DagCborOptions DagCbor { get; init; } = DagCborOptions.Default;
}
