namespace AtSync.AtProto.Cids;

/// <summary>A CID string or binary CID that is malformed or outside what AT Protocol accepts.</summary>
public sealed class CidFormatException : AtProtoDataException
{
    public CidFormatException(string reason, long offset = -1) : base(reason, offset) { }
}
