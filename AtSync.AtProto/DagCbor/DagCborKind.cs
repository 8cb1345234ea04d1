namespace AtSync.AtProto.DagCbor;

/// <summary>The kinds of value in the DAG-CBOR / AT Protocol data model.</summary>
public enum DagCborKind : byte
{
    /// <summary><c>default(DagCborValue)</c>: no value.</summary>
    None = 0,
    Null,
    Boolean,
    Integer,
    Float,
    String,
    Bytes,
    /// <summary>A CID link (CBOR tag 42).</summary>
    Link,
    Array,
    Map,
}
