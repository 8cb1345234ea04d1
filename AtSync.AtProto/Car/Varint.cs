namespace AtSync.AtProto.Car;

/// <summary>Multiformats unsigned varints (LEB128), minimal encoding only.</summary>
public static class Varint
{
    /// <summary>
    /// Reads a varint of at most 9 bytes (63 bits). Returns null on success, else the reason;
    /// <paramref name="consumed"/> is the number of bytes read.
    /// </summary>
    public static string? TryRead(ReadOnlySpan<byte> data, out ulong value, out int consumed)
    {
        value = 0;
        consumed = 0;
        var shift = 0;
        while (true)
        {
            if (consumed >= data.Length)
            {
                return "varint truncated";
            }

            if (consumed == 9)
            {
                return "varint longer than 9 bytes";
            }

            var b = data[consumed++];
            value |= (ulong)(b & 0x7f) << shift;
            if ((b & 0x80) == 0)
            {
                if (b == 0 && consumed > 1)
                {
                    return "varint is not minimally encoded";
                }

                return null;
            }

            shift += 7;
        }
    }

    public static int Length(ulong value)
    {
        var n = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            n++;
        }

        return n;
    }

    public static int Write(Span<byte> destination, ulong value)
    {
        var n = 0;
        while (value >= 0x80)
        {
            destination[n++] = (byte)(value | 0x80);
            value >>= 7;
        }

        destination[n++] = (byte)value;
        return n;
    }
}
