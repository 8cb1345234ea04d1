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
                sql.Append("_utf8mb4 X'");
                var bytes = Encoding.UTF8.GetBytes(text);
                sql.Append(Convert.ToHexString(bytes));
                return sql.Append('\'');
            default:
                throw new ArgumentException($"no SQL literal for a {value.GetType().Name}", nameof(value));
        }
    }
}
