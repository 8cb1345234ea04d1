namespace AtSync.AtProto.DagCbor;

/// <summary>A value that is well-formed DAG-CBOR or JSON but breaks an AT Protocol data-model rule.</summary>
public sealed class DataModelException : AtProtoDataException
{
    public DataModelException(string reason, long offset = -1, Exception? inner = null) : base(reason, offset, inner) { }
}
