using System.Buffers;
using System.Buffers.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using AtSync.AtProto.Cids;
using AtSync.AtProto.DagCbor;

namespace AtSync.AtProto.Json;

/// <summary>
/// The AT Protocol JSON form of data-model values: CID links as <c>{"$link": "b…"}</c>, bytes as
/// <c>{"$bytes": base64 without padding}</c>; blobs are ordinary objects (<c>$type</c>, <c>ref</c>, <c>mimeType</c>, <c>size</c>).
/// </summary>
public static class AtProtoJson
{
    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = true,
    };

    /// <summary>Writes <paramref name="value"/> as AT Protocol JSON.</summary>
    public static void WriteValue(Utf8JsonWriter writer, in DagCborValue value)
    {
        switch (value.Kind)
        {
            case DagCborKind.Null:
                writer.WriteNullValue();
                break;
            case DagCborKind.Boolean:
                writer.WriteBooleanValue(value.AsBoolean());
                break;
            case DagCborKind.Integer:
                writer.WriteNumberValue(value.AsInt64());
                break;
            case DagCborKind.Float:
                writer.WriteNumberValue(value.AsDouble());
                break;
            case DagCborKind.String:
                writer.WriteStringValue(value.Utf8);
                break;
            case DagCborKind.Bytes:
                writer.WriteStartObject();
                writer.WritePropertyName("$bytes"u8);
                WriteBase64NoPadding(writer, value.AsBytes().Span);
                writer.WriteEndObject();
                break;
            case DagCborKind.Link:
                writer.WriteStartObject();
                writer.WritePropertyName("$link"u8);
                WriteCid(writer, value.AsCid());
                writer.WriteEndObject();
                break;
            case DagCborKind.Array:
                writer.WriteStartArray();
                foreach (var item in value.AsArray())
                {
                    WriteValue(writer, item);
                }

                writer.WriteEndArray();
                break;
            case DagCborKind.Map:
                var map = value.AsMap();
                writer.WriteStartObject();
                for (var i = 0; i < map.Count; i++)
                {
                    writer.WritePropertyName(map.GetKeyUtf8(i));
                    WriteValue(writer, map.GetValue(i));
                }

                writer.WriteEndObject();
                break;
            default:
                throw new ArgumentException("Cannot write an empty DagCborValue.", nameof(value));
        }
    }

    /// <summary>Writes a CID as a JSON string (59 ASCII bytes, no allocation).</summary>
    public static void WriteCid(Utf8JsonWriter writer, Cid cid)
    {
        Span<byte> utf8 = stackalloc byte[Cid.StringLength];
        cid.TryFormatUtf8(utf8, out _);
        writer.WriteStringValue(utf8);
    }

    /// <summary>Renders <paramref name="value"/> as UTF-8 JSON.</summary>
    public static byte[] ToJsonUtf8(in DagCborValue value)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            WriteValue(writer, value);
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Renders <paramref name="value"/> as a JSON string.</summary>
    public static string ToJson(in DagCborValue value) => System.Text.Encoding.UTF8.GetString(ToJsonUtf8(value));

    private static void WriteBase64NoPadding(Utf8JsonWriter writer, ReadOnlySpan<byte> bytes)
    {
        var max = Base64.GetMaxEncodedToUtf8Length(bytes.Length);
        byte[]? rented = null;
        var buffer = max <= 512 ? stackalloc byte[max] : (rented = ArrayPool<byte>.Shared.Rent(max));
        try
        {
            Base64.EncodeToUtf8(bytes, buffer, out _, out var written);
            while (written > 0 && buffer[written - 1] == (byte)'=')
            {
                written--;
            }

            writer.WriteStringValue(buffer[..written]);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Parses AT Protocol JSON into a value (see <see cref="FromJson(JsonElement)"/>).</summary>
    public static DagCborValue FromJson(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            return FromJson(document.RootElement);
        }
        catch (JsonException ex)
        {
            throw new DataModelException("invalid JSON: " + ex.Message, -1, ex);
        }
    }

    /// <summary>
    /// Converts AT Protocol JSON into a data-model value: <c>$link</c> and <c>$bytes</c> objects (exactly one
    /// string property) become links and bytes, integral numbers become integers; anything else that the data model
    /// forbids (non-integral numbers, duplicate keys, bogus links) raises <see cref="DataModelException"/>.
    /// It does not apply the <c>$type</c>/blob rules: call <see cref="AtProtoDataModel.Validate"/> for those.
    /// </summary>
    public static DagCborValue FromJson(JsonElement element) => Convert(element, 0);

    private static DagCborValue Convert(JsonElement element, int depth)
    {
        if (depth > 128)
        {
            throw new DataModelException("JSON nested too deeply");
        }

        switch (element.ValueKind)
        {
            case JsonValueKind.Null:
                return DagCborValue.Null;
            case JsonValueKind.True:
                return DagCborValue.True;
            case JsonValueKind.False:
                return DagCborValue.False;
            case JsonValueKind.String:
                return DagCborValue.FromString(element.GetString()!);
            case JsonValueKind.Number:
                if (element.TryGetInt64(out var l))
                {
                    return DagCborValue.FromInt64(l);
                }

                var d = element.GetDouble();
                if (double.IsFinite(d) && Math.Floor(d) == d && Math.Abs(d) <= 9007199254740991d)
                {
                    return DagCborValue.FromInt64((long)d);
                }

                throw new DataModelException($"number {element.GetRawText()} is not an integer (floats are not allowed)");
            case JsonValueKind.Array:
                var items = new DagCborValue[element.GetArrayLength()];
                var n = 0;
                foreach (var item in element.EnumerateArray())
                {
                    items[n++] = Convert(item, depth + 1);
                }

                return DagCborValue.FromArray(items);
            case JsonValueKind.Object:
                return ConvertObject(element, depth);
            default:
                throw new DataModelException($"unsupported JSON value {element.ValueKind}");
        }
    }

    private static DagCborValue ConvertObject(JsonElement element, int depth)
    {
        if (element.TryGetProperty("$link", out var link))
        {
            RequireSingleProperty(element, "$link");
            if (link.ValueKind != JsonValueKind.String)
            {
                throw new DataModelException("$link must be a string");
            }

            if (!Cid.TryParse(link.GetString(), out var cid, out var error))
            {
                throw new DataModelException("$link is not a valid CID: " + error);
            }

            return DagCborValue.FromCid(cid);
        }

        if (element.TryGetProperty("$bytes", out var bytes))
        {
            RequireSingleProperty(element, "$bytes");
            if (bytes.ValueKind != JsonValueKind.String)
            {
                throw new DataModelException("$bytes must be a string");
            }

            return DagCborValue.FromBytes(DecodeBase64(bytes.GetString()!));
        }

        var entries = new List<KeyValuePair<string, DagCborValue>>();
        foreach (var property in element.EnumerateObject())
        {
            entries.Add(new(property.Name, Convert(property.Value, depth + 1)));
        }

        try
        {
            return DagCborValue.FromMap(DagCborMap.Create(entries));
        }
        catch (ArgumentException ex)
        {
            throw new DataModelException(ex.Message, -1, ex);
        }
    }

    private static void RequireSingleProperty(JsonElement element, string name)
    {
        var count = 0;
        foreach (var _ in element.EnumerateObject())
        {
            count++;
        }

        if (count != 1)
        {
            throw new DataModelException($"a {name} object must have no other properties");
        }
    }

    /// <summary>Decodes standard base64 with or without padding.</summary>
    public static byte[] DecodeBase64(string text)
    {
        var padded = (text.Length % 4) switch
        {
            0 => text,
            2 => text + "==",
            3 => text + "=",
            _ => null,
        };
        var buffer = new byte[text.Length * 3 / 4 + 3];
        if (padded is null || !System.Convert.TryFromBase64String(padded, buffer, out var written))
        {
            throw new DataModelException("$bytes is not valid base64");
        }

        return buffer.AsSpan(0, written).ToArray();
    }
}
