namespace AtSync.AtProto.DagCbor;

/// <summary>Invalid or non-canonical DAG-CBOR, or input beyond the configured limits.</summary>
public sealed class DagCborException : AtProtoDataException
{
    public DagCborException(string reason, long offset, Exception? inner = null) : base(reason, offset, inner) { }
}
