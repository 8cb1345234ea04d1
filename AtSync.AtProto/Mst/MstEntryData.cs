using AtSync.AtProto.Cids;

namespace AtSync.AtProto.Mst;

/// <summary>One entry of an MST node as stored: the full key (the wire form prefix-compresses it), its value, and the subtree after it.</summary>
public readonly record struct MstEntryData(byte[] Key, Cid Value, Cid? Right);

/// <summary>One MST node as stored: <c>{l: subtree before the first entry, e: entries}</c>.</summary>
public sealed record MstNodeData(Cid? Left, IReadOnlyList<MstEntryData> Entries);
