using AtSync.AtProto.Car;

namespace AtSync.AtProto.Sync;

/// <summary>Bounds for reading a whole repository from the network (every count is checked before work is done).</summary>
public sealed record RepoReadOptions
{
    public static RepoReadOptions Default { get; } = new();

    /// <summary>Largest repository CAR accepted.</summary>
    public int MaxCarLength { get; init; } = 256 * 1024 * 1024;

    /// <summary>Most blocks (commit, tree nodes, records).</summary>
    public int MaxBlocks { get; init; } = 2_000_000;

    /// <summary>Largest single block; a record may be at most 1 MiB by the repository spec.</summary>
    public int MaxBlockLength { get; init; } = 2 * 1024 * 1024;

    internal CarReadOptions CarOptions => new()
    {
        MaxCarLength = MaxCarLength,
        MaxBlocks = MaxBlocks,
        MaxBlockLength = MaxBlockLength,
        VerifyBlocks = false,
    };
}
