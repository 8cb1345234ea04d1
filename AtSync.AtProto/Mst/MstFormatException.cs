namespace AtSync.AtProto.Mst;

/// <summary>An MST node that is not canonical: bad fields, keys out of order or on the wrong layer, an empty subtree.</summary>
public sealed class MstFormatException : AtProtoDataException
{
    public MstFormatException(string reason, Exception? inner = null) : base(reason, -1, inner) { }
}
