using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using AtSync.AtProto.Cids;

namespace AtSync.AtProto.DagCbor;

/// <summary>
/// Writes canonical DAG-CBOR: minimal integer and length headers, definite lengths, 64-bit floats, CIDs as tag 42.
/// Map entries must be written in canonical key order (shorter keys first, then bytewise); <see cref="WriteValue"/>
/// does this for <see cref="DagCborMap"/>s, which are always ordered.
/// </summary>
public sealed class DagCborWriter
{
    private readonly IBufferWriter<byte> _output;
    private readonly ArrayBufferWriter<byte>? _own;

    /// <summary>Writes into an internal growable buffer (see <see cref="WrittenSpan"/> and <see cref="ToArray"/>).</summary>
    public DagCborWriter(int initialCapacity = 256)
    {
        _own = new ArrayBufferWriter<byte>(initialCapacity);
        _output = _own;
    }

    public DagCborWriter(IBufferWriter<byte> output)
    {
        _output = output;
    }

    /// <summary>What has been written (only for the internal-buffer constructor).</summary>
    public ReadOnlySpan<byte> WrittenSpan => Own.WrittenSpan;

    public byte[] ToArray() => Own.WrittenSpan.ToArray();

    /// <summary>Clears the internal buffer for reuse.</summary>
    public void Reset() => Own.ResetWrittenCount();

    private ArrayBufferWriter<byte> Own => _own ?? throw new InvalidOperationException("This writer writes to an external buffer.");

    /// <summary>Encodes one value canonically.</summary>
    public static byte[] Encode(in DagCborValue value)
    {
        var writer = new DagCborWriter();
        writer.WriteValue(value);
        return writer.ToArray();
    }

    /// <summary>Number of bytes of the minimal header for <paramref name="argument"/>.</summary>
    public static int HeaderLength(ulong argument) => argument switch
    {
        < 24 => 1,
        <= 0xff => 2,
        <= 0xffff => 3,
        <= 0xffff_ffff => 5,
        _ => 9,
    };

    /// <summary>Writes a minimal header into <paramref name="destination"/> and returns its length.</summary>
    public static int WriteHeader(Span<byte> destination, int major, ulong argument)
    {
        var mt = (byte)(major << 5);
        switch (argument)
        {
            case < 24:
                destination[0] = (byte)(mt | (byte)argument);
                return 1;
            case <= 0xff:
                destination[0] = (byte)(mt | 24);
                destination[1] = (byte)argument;
                return 2;
            case <= 0xffff:
                destination[0] = (byte)(mt | 25);
                BinaryPrimitives.WriteUInt16BigEndian(destination[1..], (ushort)argument);
                return 3;
            case <= 0xffff_ffff:
                destination[0] = (byte)(mt | 26);
                BinaryPrimitives.WriteUInt32BigEndian(destination[1..], (uint)argument);
                return 5;
            default:
                destination[0] = (byte)(mt | 27);
                BinaryPrimitives.WriteUInt64BigEndian(destination[1..], argument);
                return 9;
        }
    }

    private void WriteHeader(int major, ulong argument)
    {
        var span = _output.GetSpan(9);
        _output.Advance(WriteHeader(span, major, argument));
    }

    public void WriteInt64(long value)
    {
        if (value >= 0)
        {
            WriteHeader(0, (ulong)value);
        }
        else
        {
            WriteHeader(1, (ulong)(-1 - value));
        }
    }

    public void WriteBoolean(bool value) => WriteByte(value ? (byte)0xf5 : (byte)0xf4);

    public void WriteNull() => WriteByte(0xf6);

    public void WriteDouble(double value)
    {
        if (!double.IsFinite(value))
        {
            throw new ArgumentOutOfRangeException(nameof(value), "DAG-CBOR floats must be finite.");
        }

        var span = _output.GetSpan(9);
        span[0] = 0xfb;
        BinaryPrimitives.WriteDoubleBigEndian(span[1..], value);
        _output.Advance(9);
    }

    public void WriteString(ReadOnlySpan<char> value)
    {
        var length = Encoding.UTF8.GetByteCount(value);
        WriteHeader(3, (ulong)length);
        var span = _output.GetSpan(length);
        Encoding.UTF8.GetBytes(value, span);
        _output.Advance(length);
    }

    /// <summary>Writes a text string given as UTF-8 (the caller guarantees validity).</summary>
    public void WriteUtf8String(ReadOnlySpan<byte> utf8)
    {
        WriteHeader(3, (ulong)utf8.Length);
        WriteRaw(utf8);
    }

    public void WriteBytes(ReadOnlySpan<byte> value)
    {
        WriteHeader(2, (ulong)value.Length);
        WriteRaw(value);
    }

    /// <summary>Writes a CID link: tag 42, byte string of 37 bytes (0x00 + binary CID).</summary>
    public void WriteCid(Cid cid)
    {
        var span = _output.GetSpan(41);
        span[0] = 0xd8;
        span[1] = 42;
        span[2] = 0x58;
        span[3] = Cid.BinaryLength + 1;
        span[4] = 0x00;
        cid.WriteBytes(span.Slice(5, Cid.BinaryLength));
        _output.Advance(41);
    }

    public void WriteStartArray(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        WriteHeader(4, (ulong)count);
    }

    /// <summary>Starts a map of <paramref name="count"/> entries; write each key (<see cref="WriteString"/>) then its value, in canonical key order.</summary>
    public void WriteStartMap(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        WriteHeader(5, (ulong)count);
    }

    /// <summary>Copies bytes that are already one encoded DAG-CBOR value.</summary>
    public void WriteEncodedValue(ReadOnlySpan<byte> encoded) => WriteRaw(encoded);

    public void WriteValue(in DagCborValue value)
    {
        switch (value.Kind)
        {
            case DagCborKind.Null:
                WriteNull();
                break;
            case DagCborKind.Boolean:
                WriteBoolean(value.AsBoolean());
                break;
            case DagCborKind.Integer:
                WriteInt64(value.AsInt64());
                break;
            case DagCborKind.Float:
                WriteDouble(value.AsDouble());
                break;
            case DagCborKind.String:
                WriteUtf8String(value.Utf8);
                break;
            case DagCborKind.Bytes:
                WriteBytes(value.AsBytes().Span);
                break;
            case DagCborKind.Link:
                WriteCid(value.AsCid());
                break;
            case DagCborKind.Array:
                var items = value.AsArray();
                WriteStartArray(items.Length);
                foreach (var item in items)
                {
                    WriteValue(item);
                }

                break;
            case DagCborKind.Map:
                var map = value.AsMap();
                WriteStartMap(map.Count);
                for (var i = 0; i < map.Count; i++)
                {
                    WriteUtf8String(map.GetKeyUtf8(i));
                    WriteValue(map.GetValue(i));
                }

                break;
            default:
                throw new ArgumentException("Cannot encode an empty DagCborValue.", nameof(value));
        }
    }

    private void WriteByte(byte b)
    {
        var span = _output.GetSpan(1);
        span[0] = b;
        _output.Advance(1);
    }

    private void WriteRaw(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            return;
        }

        var span = _output.GetSpan(bytes.Length);
        bytes.CopyTo(span);
        _output.Advance(bytes.Length);
    }
}
