using AtSync.AtProto.Cids;
using AtSync.AtProto.DagCbor;

namespace AtSync.AtProto.Sync;

/// <summary>One record of a verified repository: where it lives, its CID, and its decoded value (referencing the CAR's bytes).</summary>
public readonly record struct RepoRecord(string Collection, string RecordKey, Cid Cid, DagCborValue Value)
{
    public string Path => $"{Collection}/{RecordKey}";
}
