using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text.Unicode;
using AtSync.AtProto.Cids;

namespace AtSync.AtProto.DagCbor;

/// <summary>
/// The non-throwing strict DAG-CBOR structure check behind <see cref="DagCborReader.SkipValue"/>,
/// <see cref="DagCborReader.Validate"/> and <see cref="DagCborReader.TryValidate"/>. Each method returns null on
/// success or the reason, with <c>errorAt</c> the offset of the offending item.
/// </summary>
internal static class DagCborWalker
{
    /// <summary>Reads the argument of the item at <paramref name="pos"/> (any major except 7), enforcing minimal encoding.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static string? TryReadArgument(ReadOnlySpan<byte> data, ref int pos, out ulong value)
    {
        var ai = data[pos] & 0x1f;
        if (ai < 24)
        {
            value = (ulong)ai;
            pos++;
            return null;
        }

        return TryReadLongArgument(data, ref pos, ai, out value);
    }

    private static string? TryReadLongArgument(ReadOnlySpan<byte> data, ref int pos, int ai, out ulong value)
    {
        var rest = data.Length - pos - 1;
        switch (ai)
        {
            case 24:
                value = rest < 1 ? 0UL : data[pos + 1];
                if (rest < 1)
                {
                    return "unexpected end of input in item header";
                }

                if (value < 24)
                {
                    return "non-minimal integer or length encoding";
                }

                pos += 2;
                return null;
            case 25:
                value = rest < 2 ? 0UL : BinaryPrimitives.ReadUInt16BigEndian(data.Slice(pos + 1, 2));
                if (rest < 2)
                {
                    return "unexpected end of input in item header";
                }

                if (value <= 0xff)
                {
                    return "non-minimal integer or length encoding";
                }

                pos += 3;
                return null;
            case 26:
                value = rest < 4 ? 0UL : BinaryPrimitives.ReadUInt32BigEndian(data.Slice(pos + 1, 4));
                if (rest < 4)
                {
                    return "unexpected end of input in item header";
                }

                if (value <= 0xffff)
                {
                    return "non-minimal integer or length encoding";
                }

                pos += 5;
                return null;
            case 27:
                value = rest < 8 ? 0UL : BinaryPrimitives.ReadUInt64BigEndian(data.Slice(pos + 1, 8));
                if (rest < 8)
                {
                    return "unexpected end of input in item header";
                }

                if (value <= 0xffff_ffff)
                {
                    return "non-minimal integer or length encoding";
                }

                pos += 9;
                return null;
            case 31:
                value = 0;
                return "indefinite-length items are not allowed in DAG-CBOR";
            default:
                value = 0;
                return $"reserved additional information {ai}";
        }
    }

    /// <summary>The reason a major-7 initial byte other than true/false/null/64-bit float is rejected.</summary>
    public static string SimpleValueError(byte ib) => ib switch
    {
        0xf7 => "undefined is not allowed in DAG-CBOR",
        0xf9 or 0xfa => "DAG-CBOR floats must be 64-bit",
        0xff => "unexpected break (indefinite lengths are not allowed)",
        _ => $"simple value 0x{ib:x2} is not allowed in DAG-CBOR",
    };

    /// <summary>
    /// Skips the commonest items without a call: small integers, true/false/null, and canonical CID links.
    /// Returns false (consuming nothing) for anything else, which <see cref="Skip"/> then handles in full.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool TrySkipSimple(ReadOnlySpan<byte> data, ref int pos)
    {
        if ((uint)pos >= (uint)data.Length)
        {
            return false;
        }

        var ib = data[pos];
        if (ib < 0x18 || ib - 0x20u < 0x18u || ib - 0xf4u <= 2u)
        {
            pos++;
            return true;
        }

        if (ib == 0xd8 && data.Length - pos >= 41)
        {
            var head = data.Slice(pos, 9);
            if (head[1] == 42 && head[2] == 0x58 && head[3] == Cid.BinaryLength + 1 && head[4] == 0x00
                && head[5] == 0x01 && head[6] is Cid.DagCborCodec or Cid.RawCodec && head[7] == Cid.Sha256Code && head[8] == Cid.DigestLength)
            {
                pos += 41;
                return true;
            }
        }

        return false;
    }

    /// <summary>Validates and skips one value starting at <paramref name="pos"/>.</summary>
    public static string? Skip(ReadOnlySpan<byte> data, ref int pos, int depth, DagCborOptions options, out int errorAt)
    {
        errorAt = pos;
        if (pos >= data.Length)
        {
            return "unexpected end of input";
        }

        var ib = data[pos];
        var major = ib >> 5;
        string? error;
        ulong arg;
        switch (major)
        {
            case 0:
            case 1:
                error = TryReadArgument(data, ref pos, out arg);
                if (error is not null)
                {
                    return error;
                }

                return arg > long.MaxValue ? "integer outside the 64-bit signed range" : null;
            case 2:
            case 3:
            {
                error = TryReadArgument(data, ref pos, out arg);
                if (error is not null)
                {
                    return error;
                }

                if (arg > (ulong)(data.Length - pos))
                {
                    return $"length {arg} exceeds the remaining input ({data.Length - pos} bytes)";
                }

                if (arg > (ulong)options.MaxItemLength)
                {
                    return $"length {arg} exceeds the limit of {options.MaxItemLength} bytes";
                }

                if (major == 3 && !Utf8.IsValid(data.Slice(pos, (int)arg)))
                {
                    return "string is not valid UTF-8";
                }

                pos += (int)arg;
                return null;
            }

            case 4:
            {
                error = TryReadArgument(data, ref pos, out arg);
                if (error is not null)
                {
                    return error;
                }

                if (arg > (ulong)(data.Length - pos))
                {
                    return $"array of {arg} items exceeds the remaining input";
                }

                if (arg > (ulong)options.MaxCollectionLength)
                {
                    return $"array of {arg} items exceeds the limit of {options.MaxCollectionLength}";
                }

                if (depth + 1 > options.MaxDepth)
                {
                    return $"nesting deeper than {options.MaxDepth}";
                }

                for (var i = 0; i < (int)arg; i++)
                {
                    if (TrySkipSimple(data, ref pos))
                    {
                        continue;
                    }

                    error = Skip(data, ref pos, depth + 1, options, out errorAt);
                    if (error is not null)
                    {
                        return error;
                    }
                }

                return null;
            }

            case 5:
            {
                error = TryReadArgument(data, ref pos, out arg);
                if (error is not null)
                {
                    return error;
                }

                if (arg > (ulong)(data.Length - pos) / 2)
                {
                    return $"map of {arg} entries exceeds the remaining input";
                }

                if (arg > (ulong)options.MaxCollectionLength)
                {
                    return $"map of {arg} entries exceeds the limit of {options.MaxCollectionLength}";
                }

                if (depth + 1 > options.MaxDepth)
                {
                    return $"nesting deeper than {options.MaxDepth}";
                }

                var previousStart = -1;
                var previousLength = 0;
                for (var i = 0; i < (int)arg; i++)
                {
                    errorAt = pos;
                    if (pos >= data.Length)
                    {
                        return "unexpected end of input";
                    }

                    var kb = data[pos];
                    if (kb >> 5 != 3)
                    {
                        return "map keys must be strings in DAG-CBOR";
                    }

                    ulong keyLength;
                    if ((kb & 0x1f) < 24)
                    {
                        keyLength = (ulong)(kb & 0x1f);
                        pos++;
                    }
                    else
                    {
                        error = TryReadArgument(data, ref pos, out keyLength);
                        if (error is not null)
                        {
                            return error;
                        }
                    }

                    if (keyLength > (ulong)(data.Length - pos))
                    {
                        return $"length {keyLength} exceeds the remaining input ({data.Length - pos} bytes)";
                    }

                    if (keyLength > (ulong)options.MaxItemLength)
                    {
                        return $"length {keyLength} exceeds the limit of {options.MaxItemLength} bytes";
                    }

                    var key = data.Slice(pos, (int)keyLength);
                    if (!Utf8.IsValid(key))
                    {
                        return "string is not valid UTF-8";
                    }

                    if (previousStart >= 0)
                    {
                        var c = previousLength != key.Length
                            ? previousLength.CompareTo(key.Length)
                            : data.Slice(previousStart, previousLength).SequenceCompareTo(key);
                        if (c == 0)
                        {
                            return "duplicate map key";
                        }

                        if (c > 0)
                        {
                            return "map keys are not in canonical order (length first, then bytewise)";
                        }
                    }

                    previousStart = pos;
                    previousLength = key.Length;
                    pos += key.Length;
                    if (TrySkipSimple(data, ref pos))
                    {
                        continue;
                    }

                    error = Skip(data, ref pos, depth + 1, options, out errorAt);
                    if (error is not null)
                    {
                        return error;
                    }
                }

                return null;
            }

            case 6:
                return SkipCid(data, ref pos, out errorAt);
            default:
                switch (ib)
                {
                    case 0xf4:
                    case 0xf5:
                    case 0xf6:
                        pos++;
                        return null;
                    case 0xfb:
                        if (data.Length - pos < 9)
                        {
                            return "unexpected end of input in float";
                        }

                        if (!double.IsFinite(BinaryPrimitives.ReadDoubleBigEndian(data.Slice(pos + 1, 8))))
                        {
                            return "NaN and infinite floats are not allowed in DAG-CBOR";
                        }

                        if (!options.AllowFloats)
                        {
                            return "floats are not allowed in the AT Protocol data model";
                        }

                        pos += 9;
                        return null;
                    default:
                        return SimpleValueError(ib);
                }
        }
    }

    /// <summary>Validates a tag-42 CID link at <paramref name="pos"/>.</summary>
    public static string? SkipCid(ReadOnlySpan<byte> data, ref int pos, out int errorAt)
    {
        errorAt = pos;

        // Fast path: d8 2a 58 25 00 01 {71|55} 12 20 + 32-byte digest, the only shape AT Protocol links take.
        if (data.Length - pos >= 41)
        {
            var head = data.Slice(pos, 9);
            if (head[0] == 0xd8 && head[1] == 42 && head[2] == 0x58 && head[3] == Cid.BinaryLength + 1 && head[4] == 0x00
                && head[5] == 0x01 && head[6] is Cid.DagCborCodec or Cid.RawCodec && head[7] == Cid.Sha256Code && head[8] == Cid.DigestLength)
            {
                pos += 41;
                return null;
            }
        }

        var error = TryReadArgument(data, ref pos, out var tag);
        if (error is not null)
        {
            return error;
        }

        if (tag != 42)
        {
            return $"CBOR tag {tag} is not allowed in DAG-CBOR (only 42)";
        }

        errorAt = pos;
        if (pos >= data.Length)
        {
            return "unexpected end of input";
        }

        if (data[pos] >> 5 != 2)
        {
            return "expected byte string, found another type inside tag 42";
        }

        error = TryReadArgument(data, ref pos, out var length);
        if (error is not null)
        {
            return error;
        }

        if (length > (ulong)(data.Length - pos))
        {
            return $"length {length} exceeds the remaining input ({data.Length - pos} bytes)";
        }

        if (length == 0 || data[pos] != 0x00)
        {
            return "a CID link must start with the 0x00 multibase prefix";
        }

        error = Cid.TryReadPrefix(data.Slice(pos + 1, (int)length - 1), out _, out var at);
        if (error is not null)
        {
            errorAt = pos + 1 + at;
            return error;
        }

        if (length != Cid.BinaryLength + 1)
        {
            errorAt = pos + 1 + Cid.BinaryLength;
            return $"a CID link must be {Cid.BinaryLength + 1} bytes, got {length}";
        }

        pos += (int)length;
        return null;
    }
}
