using System.Text;

namespace AtSync.Core.Forum.Text;

/// <summary>
/// What phpBB's request layer does to every string a user submits (phpBB/phpbb/request/type_cast_helper.php,
/// <c>set_var</c> with multibyte on): CR/CRLF to LF, NUL and U+FEFF removed, trimmed, HTML-escaped with
/// <c>htmlspecialchars(…, ENT_COMPAT)</c> (<c>&amp; &lt; &gt; "</c>), NFC-normalized. phpBB stores subjects and
/// usernames in that escaped form and prints them as stored, so text from the network must arrive the same way.
/// </summary>
public static class PhpbbRequestText
{
    /// <summary>The request layer's cleaning without the escaping (post text: s9e parses the unescaped text).</summary>
    public static string Normalize(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var text = value.Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n');
        if (text.AsSpan().IndexOfAny('\0', '\uFEFF') >= 0) text = text.Replace("\0", "", StringComparison.Ordinal).Replace("\uFEFF", "", StringComparison.Ordinal);
        text = PhpbbUrlFilter.PhpTrim(text);
        return text.IsNormalized(NormalizationForm.FormC) ? text : text.Normalize(NormalizationForm.FormC);
    }

    /// <summary>PHP's <c>htmlspecialchars($value, ENT_COMPAT, 'UTF-8')</c> (double-encoding, as PHP does by default).</summary>
    public static string Escape(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.AsSpan().IndexOfAny("&<>\"") < 0) return value;
        var builder = new StringBuilder(value.Length + 16);
        foreach (var c in value)
        {
            _ = c switch
            {
                '&' => builder.Append("&amp;"),
                '<' => builder.Append("&lt;"),
                '>' => builder.Append("&gt;"),
                '"' => builder.Append("&quot;"),
                _ => builder.Append(c),
            };
        }
        return builder.ToString();
    }

    /// <summary>
    /// A one-line field (subject, username) as phpBB stores it: control characters out (line breaks and tabs become
    /// spaces, the rest are dropped; U+FFFE/U+FFFF and unpaired surrogates too), then <see cref="Normalize"/> and
    /// <see cref="Escape"/>.
    /// </summary>
    public static string SingleLine(string value) => Escape(Normalize(DropControls(value)));

    /// <summary>
    /// Cuts an escaped value to at most <paramref name="maxChars"/> UTF-16 units (a phpBB column) without splitting an
    /// entity (<c>&amp;quot;</c>) or a surrogate pair, as phpBB's <c>truncate_string</c> keeps entities whole.
    /// </summary>
    public static string CutEscaped(string escaped, int maxChars)
    {
        ArgumentNullException.ThrowIfNull(escaped);
        if (escaped.Length <= maxChars) return escaped;
        var cut = maxChars;
        var amp = escaped.LastIndexOf('&', cut - 1);
        if (amp >= 0)
        {
            var semi = escaped.IndexOf(';', amp);
            if (semi < 0 || semi >= cut) cut = amp;
        }
        if (cut > 0 && char.IsHighSurrogate(escaped[cut - 1])) cut--;
        return escaped[..cut].TrimEnd();
    }

    private static string DropControls(string value)
    {
        var builder = new StringBuilder(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c is '\n' or '\r' or '\t')
            {
                builder.Append(' ');
            }
            else if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                builder.Append(c).Append(value[++i]);
            }
            else if (!char.IsControl(c) && !char.IsSurrogate(c) && c is not ('\uFFFE' or '\uFFFF'))
            {
                builder.Append(c);
            }
        }
        return builder.ToString();
    }
}
