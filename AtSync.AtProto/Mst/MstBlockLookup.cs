using AtSync.AtProto.Cids;

namespace AtSync.AtProto.Mst;

/// <summary>Finds a block by CID (e.g. <see cref="Car.CarFile.TryGetBlock"/>); false when the block is not held.</summary>
public delegate bool MstBlockLookup(Cid cid, out ReadOnlyMemory<byte> block);
