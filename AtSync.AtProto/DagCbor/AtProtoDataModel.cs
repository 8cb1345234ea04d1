namespace AtSync.AtProto.DagCbor;

/// <summary>
/// AT Protocol data-model rules above plain DAG-CBOR: <c>$type</c>, when present, is a non-empty string; a
/// <c>{$type: blob}</c> object has a <c>ref</c> link, a string <c>mimeType</c> and an integer <c>size</c>;
/// no floats (enforced by the decoders); a record is a map.
/// </summary>
public static class AtProtoDataModel
{
    /// <summary>Throws <see cref="DataModelException"/> unless <paramref name="value"/> is a valid record (a map, recursively valid).</summary>
    public static void ValidateRecord(in DagCborValue value)
    {
        if (value.Kind != DagCborKind.Map)
        {
            throw new DataModelException($"a record must be an object, not {value.Kind}");
        }

        Validate(value);
    }

    /// <summary>Throws <see cref="DataModelException"/> on the first data-model violation anywhere inside <paramref name="value"/>.</summary>
    public static void Validate(in DagCborValue value, int depth = 0)
    {
        if (depth > 128)
        {
            throw new DataModelException("value nested too deeply");
        }

        switch (value.Kind)
        {
            case DagCborKind.None:
                throw new DataModelException("empty value");
            case DagCborKind.Float:
                throw new DataModelException("floats are not allowed in the AT Protocol data model");
            case DagCborKind.Array:
                foreach (var item in value.AsArray())
                {
                    Validate(item, depth + 1);
                }

                break;
            case DagCborKind.Map:
                var map = value.AsMap();
                if (map.TryGetValue("$type"u8, out var type))
                {
                    if (type.Kind != DagCborKind.String || type.Utf8.IsEmpty)
                    {
                        throw new DataModelException("$type must be a non-empty string");
                    }

                    if (type.StringEquals("blob"u8))
                    {
                        ValidateBlob(map);
                    }
                }

                for (var i = 0; i < map.Count; i++)
                {
                    Validate(map.GetValue(i), depth + 1);
                }

                break;
        }
    }

    private static void ValidateBlob(DagCborMap map)
    {
        if (!map.TryGetValue("ref"u8, out var r) || r.Kind != DagCborKind.Link)
        {
            throw new DataModelException("a blob needs a 'ref' CID link");
        }

        if (!map.TryGetValue("mimeType"u8, out var m) || m.Kind != DagCborKind.String)
        {
            throw new DataModelException("a blob needs a string 'mimeType'");
        }

        if (!map.TryGetValue("size"u8, out var s) || s.Kind != DagCborKind.Integer)
        {
            throw new DataModelException("a blob needs an integer 'size'");
        }
    }
}
