using AtSync.AtProto.Cids;

namespace AtSync.AtProto.Car;

/// <summary>One block of a CAR file: its CID and its bytes (a slice of the CAR buffer).</summary>
public readonly record struct CarBlock(Cid Cid, ReadOnlyMemory<byte> Data);
