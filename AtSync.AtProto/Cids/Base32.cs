namespace AtSync.AtProto.Cids;

/// <summary>RFC 4648 base32, lower-case alphabet, no padding (the multibase <c>b</c> encoding).</summary>
public static class Base32
{
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz234567";

    private static readonly sbyte[] DecodeTable = BuildDecodeTable();

    private static sbyte[] BuildDecodeTable()
    {
        var table = new sbyte[128];
        Array.Fill(table, (sbyte)-1);
        for (var i = 0; i < Alphabet.Length; i++)
        {
            table[Alphabet[i]] = (sbyte)i;
        }

        return table;
    }

    /// <summary>Characters needed to encode <paramref name="byteCount"/> bytes.</summary>
    public static int GetEncodedLength(int byteCount) => (int)(((long)byteCount * 8 + 4) / 5);

    /// <summary>Bytes produced by decoding <paramref name="charCount"/> characters (extra bits are dropped).</summary>
    public static int GetDecodedLength(int charCount) => (int)((long)charCount * 5 / 8);

    public static string Encode(ReadOnlySpan<byte> data)
    {
        var length = GetEncodedLength(data.Length);
        if (length <= 256)
        {
            Span<char> buffer = stackalloc char[length];
            Encode(data, buffer);
            return new string(buffer);
        }

        var chars = new char[length];
        Encode(data, chars);
        return new string(chars);
    }

    /// <summary>Encodes into <paramref name="destination"/>, which must hold <see cref="GetEncodedLength"/> chars.</summary>
    public static int Encode(ReadOnlySpan<byte> data, Span<char> destination)
    {
        var length = GetEncodedLength(data.Length);
        if (destination.Length < length)
        {
            throw new ArgumentException("Destination too small.", nameof(destination));
        }

        var o = 0;
        ulong buffer = 0;
        var bits = 0;
        foreach (var b in data)
        {
            buffer = (buffer << 8) | b;
            bits += 8;
            while (bits >= 5)
            {
                bits -= 5;
                destination[o++] = Alphabet[(int)((buffer >> bits) & 31)];
            }
        }

        if (bits > 0)
        {
            destination[o++] = Alphabet[(int)((buffer << (5 - bits)) & 31)];
        }

        return o;
    }

    /// <summary>Encodes into UTF-8 bytes (ASCII), which must hold <see cref="GetEncodedLength"/> bytes.</summary>
    public static int EncodeUtf8(ReadOnlySpan<byte> data, Span<byte> destination)
    {
        var o = 0;
        ulong buffer = 0;
        var bits = 0;
        foreach (var b in data)
        {
            buffer = (buffer << 8) | b;
            bits += 8;
            while (bits >= 5)
            {
                bits -= 5;
                destination[o++] = (byte)Alphabet[(int)((buffer >> bits) & 31)];
            }
        }

        if (bits > 0)
        {
            destination[o++] = (byte)Alphabet[(int)((buffer << (5 - bits)) & 31)];
        }

        return o;
    }

    /// <summary>
    /// Strictly decodes lower-case unpadded base32: any character outside the alphabet, an impossible length,
    /// or non-zero trailing bits makes it fail. Returns the number of bytes written, or -1.
    /// </summary>
    public static int TryDecode(ReadOnlySpan<char> text, Span<byte> destination)
    {
        var length = GetDecodedLength(text.Length);
        if (destination.Length < length)
        {
            return -1;
        }

        // Lengths whose last character would carry no whole byte are not produced by any encoder.
        var rem = text.Length % 8;
        if (rem is 1 or 3 or 6)
        {
            return -1;
        }

        var o = 0;
        ulong buffer = 0;
        var bits = 0;
        foreach (var c in text)
        {
            if (c >= 128)
            {
                return -1;
            }

            var v = DecodeTable[c];
            if (v < 0)
            {
                return -1;
            }

            buffer = (buffer << 5) | (byte)v;
            bits += 5;
            if (bits >= 8)
            {
                bits -= 8;
                destination[o++] = (byte)(buffer >> bits);
            }
        }

        if (bits > 0 && (buffer & ((1UL << bits) - 1)) != 0)
        {
            return -1;
        }

        return o;
    }
}
