using System.Text;
using AtSync.AtProto.Cids;

namespace AtSync.AtProto.DagCbor;

/// <summary>
/// One decoded DAG-CBOR value. Strings, byte strings and links reference slices of the decoded input
/// (no copy) when the reader was given a <see cref="ReadOnlyMemory{T}"/>; a .NET string is only created by
/// <see cref="AsString"/>. Arrays are <see cref="DagCborValue"/>[]; maps are <see cref="DagCborMap"/> (keys in canonical order).
/// </summary>
public readonly struct DagCborValue
{
    private readonly object? _obj;
    private readonly ReadOnlyMemory<byte> _mem;
    private readonly long _scalar;
    private readonly DagCborKind _kind;

    private DagCborValue(DagCborKind kind, long scalar = 0, object? obj = null, ReadOnlyMemory<byte> mem = default)
    {
        _kind = kind;
        _scalar = scalar;
        _obj = obj;
        _mem = mem;
    }

    public DagCborKind Kind => _kind;

    public static DagCborValue Null { get; } = new(DagCborKind.Null);

    public static DagCborValue True { get; } = new(DagCborKind.Boolean, 1);

    public static DagCborValue False { get; } = new(DagCborKind.Boolean, 0);

    public static DagCborValue FromBoolean(bool value) => value ? True : False;

    public static DagCborValue FromInt64(long value) => new(DagCborKind.Integer, value);

    /// <summary>A 64-bit float; must be finite (DAG-CBOR), and note the AT Protocol data model forbids floats.</summary>
    public static DagCborValue FromDouble(double value)
    {
        if (!double.IsFinite(value))
        {
            throw new ArgumentOutOfRangeException(nameof(value), "DAG-CBOR floats must be finite.");
        }

        return new(DagCborKind.Float, BitConverter.DoubleToInt64Bits(value));
    }

    public static DagCborValue FromString(string value) => new(DagCborKind.String, mem: Encoding.UTF8.GetBytes(value));

    /// <summary>A string given as UTF-8 bytes (not copied; must be valid UTF-8).</summary>
    public static DagCborValue FromUtf8(ReadOnlyMemory<byte> utf8) => new(DagCborKind.String, mem: utf8);

    /// <summary>A byte string (not copied).</summary>
    public static DagCborValue FromBytes(ReadOnlyMemory<byte> bytes) => new(DagCborKind.Bytes, mem: bytes);

    public static DagCborValue FromCid(Cid cid) => new(DagCborKind.Link, mem: cid.ToBytes());

    /// <summary>A link whose 36-byte binary CID was already validated (not copied).</summary>
    internal static DagCborValue FromCidBytes(ReadOnlyMemory<byte> binaryCid) => new(DagCborKind.Link, mem: binaryCid);

    public static DagCborValue FromArray(DagCborValue[] items) => new(DagCborKind.Array, obj: items ?? throw new ArgumentNullException(nameof(items)));

    public static DagCborValue FromMap(DagCborMap map) => new(DagCborKind.Map, obj: map ?? throw new ArgumentNullException(nameof(map)));

    public bool IsNull => _kind == DagCborKind.Null;

    public bool AsBoolean() => _kind == DagCborKind.Boolean ? _scalar != 0 : throw WrongKind(DagCborKind.Boolean);

    public long AsInt64() => _kind == DagCborKind.Integer ? _scalar : throw WrongKind(DagCborKind.Integer);

    public double AsDouble() => _kind == DagCborKind.Float ? BitConverter.Int64BitsToDouble(_scalar) : throw WrongKind(DagCborKind.Float);

    /// <summary>The UTF-8 bytes of a string value.</summary>
    public ReadOnlySpan<byte> Utf8 => _kind == DagCborKind.String ? _mem.Span : throw WrongKind(DagCborKind.String);

    /// <summary>The UTF-8 bytes of a string value, as memory.</summary>
    public ReadOnlyMemory<byte> Utf8Memory => _kind == DagCborKind.String ? _mem : throw WrongKind(DagCborKind.String);

    /// <summary>Decodes a string value into a .NET string (allocates).</summary>
    public string AsString() => _kind == DagCborKind.String ? Encoding.UTF8.GetString(_mem.Span) : throw WrongKind(DagCborKind.String);

    /// <summary>True when this is a string equal to <paramref name="utf8"/>, without allocating.</summary>
    public bool StringEquals(ReadOnlySpan<byte> utf8) => _kind == DagCborKind.String && _mem.Span.SequenceEqual(utf8);

    public ReadOnlyMemory<byte> AsBytes() => _kind == DagCborKind.Bytes ? _mem : throw WrongKind(DagCborKind.Bytes);

    public Cid AsCid() => _kind == DagCborKind.Link ? Cid.ReadBytes(_mem.Span) : throw WrongKind(DagCborKind.Link);

    public DagCborValue[] AsArray() => _kind == DagCborKind.Array ? (DagCborValue[])_obj! : throw WrongKind(DagCborKind.Array);

    public DagCborMap AsMap() => _kind == DagCborKind.Map ? (DagCborMap)_obj! : throw WrongKind(DagCborKind.Map);

    /// <summary>Structural equality of two values (maps by key and value, links by CID).</summary>
    public static bool DeepEquals(in DagCborValue a, in DagCborValue b)
    {
        if (a._kind != b._kind)
        {
            return false;
        }

        switch (a._kind)
        {
            case DagCborKind.None:
            case DagCborKind.Null:
                return true;
            case DagCborKind.Boolean:
            case DagCborKind.Integer:
            case DagCborKind.Float:
                return a._scalar == b._scalar;
            case DagCborKind.String:
            case DagCborKind.Bytes:
            case DagCborKind.Link:
                return a._mem.Span.SequenceEqual(b._mem.Span);
            case DagCborKind.Array:
                var x = a.AsArray();
                var y = b.AsArray();
                if (x.Length != y.Length)
                {
                    return false;
                }

                for (var i = 0; i < x.Length; i++)
                {
                    if (!DeepEquals(x[i], y[i]))
                    {
                        return false;
                    }
                }

                return true;
            case DagCborKind.Map:
                var m = a.AsMap();
                var n = b.AsMap();
                if (m.Count != n.Count)
                {
                    return false;
                }

                for (var i = 0; i < m.Count; i++)
                {
                    if (!m.GetKeyUtf8(i).SequenceEqual(n.GetKeyUtf8(i)) || !DeepEquals(m.GetValue(i), n.GetValue(i)))
                    {
                        return false;
                    }
                }

                return true;
            default:
                return false;
        }
    }

    public override string ToString() => _kind switch
    {
        DagCborKind.None => "(none)",
        DagCborKind.Null => "null",
        DagCborKind.Boolean => _scalar != 0 ? "true" : "false",
        DagCborKind.Integer => _scalar.ToString(System.Globalization.CultureInfo.InvariantCulture),
        DagCborKind.Float => AsDouble().ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        DagCborKind.String => AsString(),
        DagCborKind.Bytes => $"bytes[{_mem.Length}]",
        DagCborKind.Link => AsCid().ToString(),
        DagCborKind.Array => $"array[{AsArray().Length}]",
        DagCborKind.Map => $"map[{AsMap().Count}]",
        _ => _kind.ToString(),
    };

    private InvalidOperationException WrongKind(DagCborKind expected)
        => new($"DAG-CBOR value is {_kind}, not {expected}.");
}
