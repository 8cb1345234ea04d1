using System.Buffers;
using System.Globalization;
using System.Text;

namespace AtSync.Firehose.Apply.Bulk;

/// <summary>
/// Values written into the text of a bulk statement instead of as parameters (a statement with thousands of named
/// parameters costs the client far more than the rows): integers and booleans as decimal literals, every string as a
/// hex literal with a <c>_utf8mb4</c> introducer (only hex digits reach the SQL text, so nothing in a record can end the
/// literal), null as <c>NULL</c>. The server stores the same value the parameter would have given.
/// </summary>
internal static class SqlLiteral
{
    /// <summary>The literal of <paramref name="value"/> on its own (for a value written once into a statement).</summary>
    public static string Of(object? value) => Append(new StringBuilder(), value).ToString();

    public static StringBuilder Append(StringBuilder sql, object? value)
    {
        switch (value)
        {
            case null:
                return sql.Append("NULL");
            case bool flag:
                return sql.Append(flag ? '1' : '0');
            case int or uint or long or ulong or short or ushort or byte or sbyte:
                return sql.Append(Convert.ToString(value, CultureInfo.InvariantCulture));
            case string text when text.Length == 0:
                return sql.Append("''");
            case string text:
                return AppendHex(sql, text);
            default:
                throw new ArgumentException($"no SQL literal for a {value.GetType().Name}", nameof(value));
        }
    }

    /// <summary>The hex literal of <paramref name="text"/>'s UTF-8, through pooled buffers (no string or array per value).</summary>
    private static StringBuilder AppendHex(StringBuilder sql, string text)
    {
        var byteCount = Encoding.UTF8.GetByteCount(text);
        var bytes = ArrayPool<byte>.Shared.Rent(byteCount);
        var hex = ArrayPool<char>.Shared.Rent(2 * byteCount);
        try
        {
            var utf8 = bytes.AsSpan(0, Encoding.UTF8.GetBytes(text, bytes));
            if (!Convert.TryToHexString(utf8, hex, out var written)) throw new InvalidOperationException("hex buffer too small");
            return sql.Append("_utf8mb4 X'").Append(hex, 0, written).Append('\'');
        }
        finally
        {
            ArrayPool<char>.Shared.Return(hex);
            ArrayPool<byte>.Shared.Return(bytes);
        }
    }
}
