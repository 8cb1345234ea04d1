using System.Text;

namespace AtSync.Core.Forum.Text;

/// <summary>
/// phpBB text in both directions. This file: a record's text → phpBB 3.3's <c>post_text</c>. phpBB stores s9e
/// TextFormatter XML; a post without parsed markup is <c>&lt;t&gt;…&lt;/t&gt;</c> with XML-escaped text and
/// <c>&lt;br/&gt;</c> for line breaks. The record's BBCode is kept verbatim inside (phpBB shows it as typed; its "edit"
/// form gives it back unchanged). The other direction is in <c>PhpbbText.Edit.cs</c>.
/// </summary>
public static partial class PhpbbText
{
    public static string FromRecordText(string text)
    {
        var builder = new StringBuilder(text.Length + 16);
        builder.Append("<t>");
        var normalized = text.Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n');
        foreach (var c in normalized)
        {
            switch (c)
            {
                case '<': builder.Append("&lt;"); break;
                case '>': builder.Append("&gt;"); break;
                case '&': builder.Append("&amp;"); break;
                case '\n': builder.Append("<br/>\n"); break;
                default:
                    // XML 1.0 forbids most control characters.
                    if (c >= 0x20 || c == '\t') builder.Append(c);
                    break;
            }
        }
        builder.Append("</t>");
        // As s9e TextFormatter does: characters outside the BMP as references, which phpBB's utf8 tables can hold.
        return PhpbbColumnText.EncodeSupplementary(builder.ToString());
    }

    /// <summary>phpBB's <c>post_checksum</c>: md5 of the message as submitted.</summary>
    public static string Checksum(string text) =>
        Convert.ToHexStringLower(System.Security.Cryptography.MD5.HashData(Encoding.UTF8.GetBytes(text)));

    /// <summary>Cuts a string to at most <paramref name="max"/> characters without splitting a surrogate pair.</summary>
    public static string Truncate(string value, int max)
    {
        if (value.Length <= max) return value;
        var cut = char.IsHighSurrogate(value[max - 1]) ? max - 1 : max;
        return value[..cut];
    }
}
