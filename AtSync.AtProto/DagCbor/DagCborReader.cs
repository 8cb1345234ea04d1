using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Unicode;
using AtSync.AtProto.Cids;

namespace AtSync.AtProto.DagCbor;

/// <summary>
/// A forward-only, strict DAG-CBOR reader over a span. Rejects indefinite lengths, non-minimal integer and length
/// encodings, non-string or out-of-order or duplicate map keys, floats (unless allowed; never NaN/Infinity or
/// 16/32-bit), tags other than 42, undefined and simple values other than true/false/null, invalid UTF-8, and lengths
/// beyond the remaining input or the configured limits — each as a <see cref="DagCborException"/> with the offset.
/// Typed decoders call the Read* methods in wire order; <see cref="SkipValue"/> validates and skips unknown fields.
/// </summary>
public ref struct DagCborReader
{
    private readonly ReadOnlySpan<byte> _data;
    private readonly ReadOnlyMemory<byte> _memory;
    private readonly bool _hasMemory;
    private readonly DagCborOptions _options;
    private readonly int _baseOffset;
    private int _pos;
    private int _depth;

    /// <summary>Reads from a span; <see cref="ReadValue"/> then copies strings and bytes.</summary>
    public DagCborReader(ReadOnlySpan<byte> data, DagCborOptions? options = null, int baseOffset = 0)
    {
        _data = data;
        _options = options ?? DagCborOptions.Default;
        _baseOffset = baseOffset;
    }

    /// <summary>Reads from memory; values from <see cref="ReadValue"/> reference slices of it without copying.</summary>
    public DagCborReader(ReadOnlyMemory<byte> data, DagCborOptions? options = null, int baseOffset = 0)
    {
        _data = data.Span;
        _memory = data;
        _hasMemory = true;
        _options = options ?? DagCborOptions.Default;
        _baseOffset = baseOffset;
    }

    /// <summary>Current position, relative to the start of the reader's input.</summary>
    public readonly int Position => _pos;

    public readonly int Remaining => _data.Length - _pos;

    public readonly bool IsAtEnd => _pos >= _data.Length;

    /// <summary>Validates that <paramref name="data"/> is exactly one strict DAG-CBOR value, without building it.</summary>
    public static void Validate(ReadOnlySpan<byte> data, DagCborOptions? options = null)
    {
        if (!TryValidate(data, out var error, options))
        {
            throw new DagCborException(error.Reason, error.Offset);
        }
    }

    /// <summary>Like <see cref="Validate"/>, but reports a failure as a value instead of throwing.</summary>
    public static bool TryValidate(ReadOnlySpan<byte> data, out DecodeError error, DagCborOptions? options = null)
    {
        var pos = 0;
        var reason = DagCborWalker.Skip(data, ref pos, 0, options ?? DagCborOptions.Default, out var at);
        if (reason is null && pos != data.Length)
        {
            reason = $"{data.Length - pos} trailing bytes after the value";
            at = pos;
        }

        error = reason is null ? default : new DecodeError(reason, at);
        return reason is null;
    }

    /// <summary>Validates the next value without consuming it or throwing; returns null or the reason (with its offset).</summary>
    internal readonly string? TryValidateNext(out int end, out int errorAt)
    {
        end = _pos;
        var reason = DagCborWalker.Skip(_data, ref end, _depth, _options, out errorAt);
        errorAt += _baseOffset;
        return reason;
    }

    /// <summary>Decodes exactly one value (trailing bytes are an error); the result references <paramref name="data"/>.</summary>
    public static DagCborValue Decode(ReadOnlyMemory<byte> data, DagCborOptions? options = null)
    {
        var reader = new DagCborReader(data, options);
        var value = reader.ReadValue();
        reader.EnsureEnd();
        return value;
    }

    /// <summary>The non-throwing form of <see cref="Decode"/>: structure is checked first, so bad input costs no exception.</summary>
    public static bool TryDecode(ReadOnlyMemory<byte> data, out DagCborValue value, out DecodeError error, DagCborOptions? options = null)
    {
        value = default;
        if (!TryValidate(data.Span, out error, options))
        {
            return false;
        }

        value = Decode(data, options);
        return true;
    }

    /// <summary>Throws unless all input has been consumed.</summary>
    public readonly void EnsureEnd()
    {
        if (_pos != _data.Length)
        {
            throw Error($"{_data.Length - _pos} trailing bytes after the value", _pos);
        }
    }

    /// <summary>The kind of the next value, without consuming it.</summary>
    public readonly DagCborKind PeekKind()
    {
        if (_pos >= _data.Length)
        {
            throw Error("unexpected end of input", _pos);
        }

        var ib = _data[_pos];
        switch (ib >> 5)
        {
            case 0:
            case 1:
                return DagCborKind.Integer;
            case 2:
                return DagCborKind.Bytes;
            case 3:
                return DagCborKind.String;
            case 4:
                return DagCborKind.Array;
            case 5:
                return DagCborKind.Map;
            case 6:
                return DagCborKind.Link;
            default:
                return ib switch
                {
                    0xf4 or 0xf5 => DagCborKind.Boolean,
                    0xf6 => DagCborKind.Null,
                    0xfb => DagCborKind.Float,
                    _ => throw Error(DagCborWalker.SimpleValueError(ib), _pos),
                };
        }
    }

    /// <summary>Reads the initial byte and argument of a non-major-7 item, enforcing minimal encoding.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong ReadHeader(int expectedMajor)
    {
        if (_pos >= _data.Length)
        {
            throw Error("unexpected end of input", _pos);
        }

        var ib = _data[_pos];
        if (ib >> 5 != expectedMajor)
        {
            throw UnexpectedType(ib, expectedMajor);
        }

        var ai = ib & 0x1f;
        if (ai < 24)
        {
            _pos++;
            return (ulong)ai;
        }

        return ReadLongArgument();
    }

    private ulong ReadLongArgument()
    {
        var start = _pos;
        var error = DagCborWalker.TryReadArgument(_data, ref _pos, out var value);
        if (error is not null)
        {
            throw Error(error, start);
        }

        return value;
    }

    public long ReadInt64()
    {
        if (_pos >= _data.Length)
        {
            throw Error("unexpected end of input", _pos);
        }

        var start = _pos;
        var major = _data[_pos] >> 5;
        if (major > 1)
        {
            throw UnexpectedType(_data[_pos], 0);
        }

        var arg = ReadHeader(major);
        if (arg > long.MaxValue)
        {
            throw Error("integer outside the 64-bit signed range", start);
        }

        return major == 0 ? (long)arg : -1 - (long)arg;
    }

    public bool ReadBoolean()
    {
        if (_pos >= _data.Length)
        {
            throw Error("unexpected end of input", _pos);
        }

        var b = _data[_pos];
        if (b is 0xf4 or 0xf5)
        {
            _pos++;
            return b == 0xf5;
        }

        throw UnexpectedType(b, -1, "boolean");
    }

    /// <summary>Consumes a null if one is next.</summary>
    public bool TryReadNull()
    {
        if (_pos < _data.Length && _data[_pos] == 0xf6)
        {
            _pos++;
            return true;
        }

        return false;
    }

    public void ReadNull()
    {
        if (!TryReadNull())
        {
            if (_pos >= _data.Length)
            {
                throw Error("unexpected end of input", _pos);
            }

            throw UnexpectedType(_data[_pos], -1, "null");
        }
    }

    public double ReadDouble()
    {
        if (_pos >= _data.Length)
        {
            throw Error("unexpected end of input", _pos);
        }

        var b = _data[_pos];
        if (b is 0xf9 or 0xfa)
        {
            throw Error("DAG-CBOR floats must be 64-bit", _pos);
        }

        if (b != 0xfb)
        {
            throw UnexpectedType(b, -1, "float");
        }

        if (_data.Length - _pos < 9)
        {
            throw Error("unexpected end of input in float", _pos);
        }

        var value = BinaryPrimitives.ReadDoubleBigEndian(_data.Slice(_pos + 1, 8));
        if (!double.IsFinite(value))
        {
            throw Error("NaN and infinite floats are not allowed in DAG-CBOR", _pos);
        }

        if (!_options.AllowFloats)
        {
            throw Error("floats are not allowed in the AT Protocol data model", _pos);
        }

        _pos += 9;
        return value;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int ReadLength(int major)
    {
        var start = _pos;
        var arg = ReadHeader(major);
        if (arg > (ulong)(_data.Length - _pos))
        {
            throw Error($"length {arg} exceeds the remaining input ({_data.Length - _pos} bytes)", start);
        }

        if (arg > (ulong)_options.MaxItemLength)
        {
            throw Error($"length {arg} exceeds the limit of {_options.MaxItemLength} bytes", start);
        }

        return (int)arg;
    }

    /// <summary>Reads a byte string; the span references the input.</summary>
    public ReadOnlySpan<byte> ReadBytes()
    {
        var len = ReadLength(2);
        var span = _data.Slice(_pos, len);
        _pos += len;
        return span;
    }

    /// <summary>Reads a byte string as memory (a slice of the input when the reader was built over memory, else a copy).</summary>
    public ReadOnlyMemory<byte> ReadBytesMemory()
    {
        var len = ReadLength(2);
        var start = _pos;
        _pos += len;
        return Slice(start, len);
    }

    /// <summary>Reads a text string as validated UTF-8 bytes referencing the input.</summary>
    public ReadOnlySpan<byte> ReadUtf8()
    {
        var start = _pos;
        var len = ReadLength(3);
        var span = _data.Slice(_pos, len);
        if (!Utf8.IsValid(span))
        {
            throw Error("string is not valid UTF-8", start);
        }

        _pos += len;
        return span;
    }

    public string ReadString() => Encoding.UTF8.GetString(ReadUtf8());

    /// <summary>Reads a string, or null if a CBOR null is next.</summary>
    public string? ReadNullableString() => TryReadNull() ? null : ReadString();

    /// <summary>Reads a CID link (tag 42 around a byte string of 0x00 + binary CIDv1).</summary>
    public Cid ReadCid()
    {
        var start = ReadCidBytesStart();
        var error = Cid.TryReadPrefix(_data.Slice(start, Cid.BinaryLength), out var cid, out var at);
        if (error is not null)
        {
            throw Error(error, start + at);
        }

        _pos = start + Cid.BinaryLength;
        return cid;
    }

    /// <summary>Reads a CID link, or returns null if a CBOR null is next.</summary>
    public Cid? ReadNullableCid() => TryReadNull() ? null : ReadCid();

    /// <summary>Checks the tag-42 framing and returns the offset of the 36 CID bytes (validated by the caller).</summary>
    private int ReadCidBytesStart()
    {
        var tagStart = _pos;
        if (_pos >= _data.Length)
        {
            throw Error("unexpected end of input", _pos);
        }

        if (_data[_pos] >> 5 != 6)
        {
            throw UnexpectedType(_data[_pos], 6);
        }

        var tag = ReadHeader(6);
        if (tag != 42)
        {
            throw Error($"CBOR tag {tag} is not allowed in DAG-CBOR (only 42)", tagStart);
        }

        var bytesStart = _pos;
        var len = ReadLength(2);
        if (len == 0 || _data[_pos] != 0x00)
        {
            throw Error("a CID link must start with the 0x00 multibase prefix", bytesStart);
        }

        if (len != Cid.BinaryLength + 1)
        {
            var probe = Cid.TryReadPrefix(_data.Slice(_pos + 1, len - 1), out _, out var at);
            throw Error(probe ?? $"a CID link must be {Cid.BinaryLength + 1} bytes, got {len}", _pos + 1 + (probe is null ? 0 : at));
        }

        var start = _pos + 1;
        _pos += len;
        return start;
    }

    /// <summary>Reads an array header and returns the element count (bounded by the remaining input).</summary>
    public int ReadArrayHeader()
    {
        var start = _pos;
        var arg = ReadHeader(4);
        if (arg > (ulong)(_data.Length - _pos))
        {
            throw Error($"array of {arg} items exceeds the remaining input", start);
        }

        if (arg > (ulong)_options.MaxCollectionLength)
        {
            throw Error($"array of {arg} items exceeds the limit of {_options.MaxCollectionLength}", start);
        }

        return (int)arg;
    }

    /// <summary>Reads a map header and returns the entry count (bounded by the remaining input).</summary>
    public int ReadMapHeader()
    {
        var start = _pos;
        var arg = ReadHeader(5);
        if (arg > (ulong)(_data.Length - _pos) / 2)
        {
            throw Error($"map of {arg} entries exceeds the remaining input", start);
        }

        if (arg > (ulong)_options.MaxCollectionLength)
        {
            throw Error($"map of {arg} entries exceeds the limit of {_options.MaxCollectionLength}", start);
        }

        return (int)arg;
    }

    /// <summary>
    /// Reads the next map key (a string) and checks it sorts strictly after the previous key of the same map,
    /// tracked in <paramref name="order"/> (start each map with <c>default</c>).
    /// </summary>
    public ReadOnlySpan<byte> ReadMapKey(ref MapKeyOrder order)
    {
        var start = _pos;
        if (_pos < _data.Length && _data[_pos] >> 5 != 3)
        {
            throw Error("map keys must be strings in DAG-CBOR", _pos);
        }

        var key = ReadUtf8();
        var keyStart = _pos - key.Length;
        if (order.HasPrevious)
        {
            var previous = _data.Slice(order.Start, order.Length);
            var c = DagCborMap.CompareKeys(previous, key);
            if (c == 0)
            {
                throw Error($"duplicate map key '{Encoding.UTF8.GetString(key)}'", start);
            }

            if (c > 0)
            {
                throw Error("map keys are not in canonical order (length first, then bytewise)", start);
            }
        }

        order = new MapKeyOrder(keyStart, key.Length);
        return key;
    }

    /// <summary>
    /// Consumes <paramref name="encoded"/> when the input continues with exactly those bytes (a fixed-shape decoder's
    /// known header or key, e.g. <c>0x61 'k'</c>); otherwise consumes nothing and returns false.
    /// </summary>
    internal bool TryReadLiteral(ReadOnlySpan<byte> encoded)
    {
        if (!_data[_pos..].StartsWith(encoded))
        {
            return false;
        }

        _pos += encoded.Length;
        return true;
    }

    /// <summary>Validates and skips the next value (recursively, within the depth limit).</summary>
    public void SkipValue()
    {
        var reason = DagCborWalker.Skip(_data, ref _pos, _depth, _options, out var at);
        if (reason is not null)
        {
            throw Error(reason, at);
        }
    }

    /// <summary>Reads the next value into a <see cref="DagCborValue"/> tree.</summary>
    public DagCborValue ReadValue()
    {
        if (_pos >= _data.Length)
        {
            throw Error("unexpected end of input", _pos);
        }

        var ib = _data[_pos];
        switch (ib >> 5)
        {
            case 0:
            case 1:
                return DagCborValue.FromInt64(ReadInt64());
            case 2:
                return DagCborValue.FromBytes(ReadBytesMemory());
            case 3:
            {
                var len = ReadUtf8().Length;
                return DagCborValue.FromUtf8(Slice(_pos - len, len));
            }

            case 4:
            {
                var start = _pos;
                var n = ReadArrayHeader();
                Enter(start);
                var items = n == 0 ? [] : new DagCborValue[n];
                for (var i = 0; i < n; i++)
                {
                    items[i] = ReadValue();
                }

                _depth--;
                return DagCborValue.FromArray(items);
            }

            case 5:
            {
                var start = _pos;
                var n = ReadMapHeader();
                Enter(start);
                var keys = new ReadOnlyMemory<byte>[n];
                var values = new DagCborValue[n];
                var order = default(MapKeyOrder);
                for (var i = 0; i < n; i++)
                {
                    var len = ReadMapKey(ref order).Length;
                    keys[i] = Slice(_pos - len, len);
                    values[i] = ReadValue();
                }

                _depth--;
                return DagCborValue.FromMap(new DagCborMap(keys, values));
            }

            case 6:
            {
                ReadCid();
                return DagCborValue.FromCidBytes(Slice(_pos - Cid.BinaryLength, Cid.BinaryLength));
            }

            default:
                switch (ib)
                {
                    case 0xf4:
                        _pos++;
                        return DagCborValue.False;
                    case 0xf5:
                        _pos++;
                        return DagCborValue.True;
                    case 0xf6:
                        _pos++;
                        return DagCborValue.Null;
                    case 0xfb:
                        return DagCborValue.FromDouble(ReadDouble());
                    default:
                        PeekKind();
                        throw Error($"unexpected byte 0x{ib:x2}", _pos);
                }
        }
    }

    /// <summary>Skips the next value and returns its encoded bytes (a slice of the input).</summary>
    public ReadOnlySpan<byte> ReadEncodedValue()
    {
        var start = _pos;
        SkipValue();
        return _data[start.._pos];
    }

    private void Enter(int at)
    {
        if (++_depth > _options.MaxDepth)
        {
            throw Error($"nesting deeper than {_options.MaxDepth}", at);
        }
    }

    private readonly ReadOnlyMemory<byte> Slice(int start, int length)
        => _hasMemory ? _memory.Slice(start, length) : _data.Slice(start, length).ToArray();

    private readonly DagCborException UnexpectedType(byte initial, int expectedMajor, string? expectedName = null)
    {
        var expected = expectedName ?? expectedMajor switch
        {
            0 => "integer",
            2 => "byte string",
            3 => "text string",
            4 => "array",
            5 => "map",
            6 => "CID link (tag 42)",
            _ => "value",
        };
        var actual = (initial >> 5) switch
        {
            0 or 1 => "integer",
            2 => "byte string",
            3 => "text string",
            4 => "array",
            5 => "map",
            6 => "tag",
            _ => initial switch
            {
                0xf4 or 0xf5 => "boolean",
                0xf6 => "null",
                0xfb => "float",
                _ => $"simple/float 0x{initial:x2}",
            },
        };
        return Error($"expected {expected}, found {actual}", _pos);
    }

    private readonly DagCborException Error(string reason, int at) => new(reason, _baseOffset + at);
}

/// <summary>Tracks the previous key of a map being read so <see cref="DagCborReader.ReadMapKey"/> can enforce canonical order.</summary>
public readonly struct MapKeyOrder
{
    internal MapKeyOrder(int start, int length)
    {
        Start = start;
        Length = length;
        HasPrevious = true;
    }

    internal int Start { get; }

    internal int Length { get; }

    internal bool HasPrevious { get; }
}
