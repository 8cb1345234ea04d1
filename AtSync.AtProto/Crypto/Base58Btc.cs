namespace AtSync.AtProto.Crypto;

/// <summary>Base58 with the Bitcoin alphabet (multibase prefix <c>z</c>).</summary>
public static class Base58Btc
{
    /// <summary>Longest text accepted by <see cref="TryDecode"/> (keys are ~50 chars); bounds the quadratic work.</summary>
    public const int MaxTextLength = 512;

    private const string Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    private static readonly sbyte[] Map = BuildMap();

    private static sbyte[] BuildMap()
    {
        var map = new sbyte[128];
        Array.Fill(map, (sbyte)-1);
        for (var i = 0; i < Alphabet.Length; i++)
        {
            map[Alphabet[i]] = (sbyte)i;
        }
        return map;
    }

    public static string Encode(ReadOnlySpan<byte> data)
    {
        var zeros = 0;
        while (zeros < data.Length && data[zeros] == 0)
        {
            zeros++;
        }
        // log(256)/log(58) ≈ 1.37
        var digits = new byte[(data.Length - zeros) * 138 / 100 + 1];
        var length = 0;
        for (var i = zeros; i < data.Length; i++)
        {
            int carry = data[i];
            for (var j = 0; j < length; j++)
            {
                carry += digits[j] << 8;
                digits[j] = (byte)(carry % 58);
                carry /= 58;
            }
            while (carry > 0)
            {
                digits[length++] = (byte)(carry % 58);
                carry /= 58;
            }
        }
        return string.Create(zeros + length, (digits, length, zeros), static (span, s) =>
        {
            span[..s.zeros].Fill('1');
            for (var k = 0; k < s.length; k++)
            {
                span[s.zeros + k] = Alphabet[s.digits[s.length - 1 - k]];
            }
        });
    }

    public static bool TryDecode(ReadOnlySpan<char> text, out byte[] result)
    {
        result = [];
        if (text.Length > MaxTextLength)
        {
            return false;
        }
        var zeros = 0;
        while (zeros < text.Length && text[zeros] == '1')
        {
            zeros++;
        }
        var bytes = new byte[text.Length * 733 / 1000 + 1]; // log(58)/log(256) ≈ 0.733
        var length = 0;
        for (var i = zeros; i < text.Length; i++)
        {
            var c = text[i];
            int value = c < 128 ? Map[c] : -1;
            if (value < 0)
            {
                return false;
            }
            var carry = value;
            for (var j = 0; j < length; j++)
            {
                carry += bytes[j] * 58;
                bytes[j] = (byte)carry;
                carry >>= 8;
            }
            while (carry > 0)
            {
                bytes[length++] = (byte)carry;
                carry >>= 8;
            }
        }
        result = new byte[zeros + length];
        for (var k = 0; k < length; k++)
        {
            result[zeros + k] = bytes[length - 1 - k];
        }
        return true;
    }

    public static byte[] Decode(string text) =>
        TryDecode(text, out var bytes) ? bytes : throw new KeyFormatException("Not valid base58btc text.");
}
