using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace AtSync.Core.Forum.Text;

/// <summary>
/// Characters as phpBB 3.3 stores them. phpBB's installer makes its tables <c>utf8</c> (3 bytes a character at most,
/// AtSync.Tests/Infrastructure/phpbb33-schema.sql), so phpBB writes every character outside the Basic Multilingual
/// Plane (emoji, many CJK extension ideographs, historic scripts) as a numeric character reference: <c>😀</c> is stored
/// as <c>&amp;#128512;</c> (<c>utf8_encode_ucr</c> in includes/utf/utf_tools.php for subjects and forum names;
/// s9e TextFormatter does the same in <c>post_text</c>). Written raw, such a character fails the whole statement
/// (MySQL error 1366). The same text works unchanged on tables an operator converted to utf8mb4, and reads back the
/// same: <see cref="WebUtility.HtmlDecode"/> (what both readers of phpBB text use) turns the references into the characters.
/// </summary>
public static partial class PhpbbColumnText
{
    /// <summary>submit_post cuts subjects and topic titles with <c>truncate_string($subject, 120)</c>.</summary>
    public const int SubjectMaxCharacters = 120;

    /// <summary>The subject, title and name columns are <c>varchar(255)</c>: 255 characters as stored.</summary>
    public const int ColumnMaxCharacters = 255;

    /// <summary>
    /// phpBB's <c>utf8_encode_ucr</c>: every character outside the BMP as <c>&amp;#N;</c> (decimal code point); every other
    /// character unchanged. A lone surrogate (not a character; UTF-8 cannot hold it) becomes U+FFFD.
    /// </summary>
    public static string EncodeSupplementary(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var index = IndexOfSurrogate(text);
        if (index < 0) return text;
        var builder = new StringBuilder(text.Length + 16);
        builder.Append(text, 0, index);
        foreach (var rune in text.AsSpan(index).EnumerateRunes())
        {
            AppendStored(builder, rune);
        }
        return builder.ToString();
    }

    /// <summary>
    /// The inverse of <see cref="EncodeSupplementary"/> for a column phpBB does not HTML-escape: each <c>&amp;#N;</c> or
    /// <c>&amp;#xH;</c> naming a character outside the BMP becomes that character; everything else stays as stored.
    /// (Subjects and names are HTML-escaped by phpBB: read them with <see cref="WebUtility.HtmlDecode"/>, which does both.)
    /// </summary>
    public static string DecodeSupplementary(string stored)
    {
        ArgumentNullException.ThrowIfNull(stored);
        if (!stored.Contains("&#", StringComparison.Ordinal)) return stored;
        return SupplementaryReference().Replace(stored, match =>
        {
            var hex = match.Groups["hex"].Success;
            var digits = hex ? match.Groups["hex"].Value : match.Groups["dec"].Value;
            return int.TryParse(digits, hex ? NumberStyles.AllowHexSpecifier : NumberStyles.None, CultureInfo.InvariantCulture, out var code)
                && code is >= 0x10000 and <= 0x10FFFF
                ? char.ConvertFromUtf32(code)
                : match.Value;
        });
    }

    /// <summary>
    /// A subject or topic title as phpBB stores one a user typed: its request layer's clean-up (line breaks to spaces
    /// here, since a subject is one line; NUL and BOM dropped; trimmed; not its NFC normalization, which .NET's
    /// invariant globalization mode does not do, so the author's characters stay as written), HTML-escaped as <c>htmlspecialchars</c>
    /// with <c>ENT_COMPAT</c> does (<c>&amp; &lt; &gt; "</c>), characters outside the BMP as references, and cut as
    /// <c>truncate_string($subject, 120, 255)</c> counts: at most <paramref name="maxCharacters"/> characters as
    /// displayed (an entity or reference is one) and at most <paramref name="maxStored"/> characters as stored.
    /// Unlike phpBB it cuts only between grapheme clusters (a combining accent or an emoji sequence stays whole) and
    /// keeps the references in the cut text.
    /// </summary>
    public static string Subject(string text, int maxCharacters = SubjectMaxCharacters, int maxStored = ColumnMaxCharacters) =>
        Escaped(text.Replace("\r\n", " ", StringComparison.Ordinal).Replace('\r', ' ').Replace('\n', ' '), maxCharacters, maxStored);

    /// <summary>
    /// phpBB's <c>truncate_string($escaped, maxCharacters, maxStored)</c> on a value already HTML-escaped as phpBB's
    /// request layer escapes it: entities decoded, cut to <paramref name="maxCharacters"/> characters displayed and
    /// <paramref name="maxStored"/> stored (between grapheme clusters), escaped again, and characters outside the BMP
    /// as references. The same value again for what this returned (a stored subject stays as it is).
    /// </summary>
    public static string Truncate(string escaped, int maxCharacters = SubjectMaxCharacters, int maxStored = ColumnMaxCharacters) =>
        Fit(WebUtility.HtmlDecode(escaped ?? throw new ArgumentNullException(nameof(escaped))), maxCharacters, maxStored, escape: true);

    /// <summary>
    /// A name (username, forum name) as phpBB stores it: as <see cref="Subject"/> but cut only to
    /// <paramref name="maxStored"/> stored characters.
    /// </summary>
    public static string Name(string text, int maxStored = ColumnMaxCharacters) => Escaped(text, maxStored, maxStored);

    /// <summary>
    /// A value for a plain text column (no HTML escaping): characters outside the BMP as references, cut between
    /// grapheme clusters to at most <paramref name="maxStored"/> characters as stored.
    /// </summary>
    public static string Plain(string text, int maxStored) => Fit(text, maxStored, maxStored, escape: false);

    /// <summary>How many characters a column holds for <paramref name="stored"/> (MySQL counts code points).</summary>
    public static int StoredLength(string stored) => stored.EnumerateRunes().Count();

    /// <summary>How many characters phpBB's <c>truncate_string</c> counts for <paramref name="stored"/>: entities and references decoded.</summary>
    public static int DisplayedLength(string stored) => StoredLength(WebUtility.HtmlDecode(stored));

    private static string Escaped(string text, int maxCharacters, int maxStored)
    {
        ArgumentNullException.ThrowIfNull(text);
        var clean = text.Replace("\0", "", StringComparison.Ordinal).Replace("\uFEFF", "", StringComparison.Ordinal).Trim();
        return Fit(clean, maxCharacters, maxStored, escape: true);
    }

    private static string Fit(string text, int maxCharacters, int maxStored, bool escape)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentOutOfRangeException.ThrowIfNegative(maxCharacters);
        ArgumentOutOfRangeException.ThrowIfNegative(maxStored);
        var builder = new StringBuilder(Math.Min(text.Length + 16, maxStored * 2));
        var grapheme = new StringBuilder();
        int displayed = 0, stored = 0;
        var cut = false;
        var elements = StringInfo.GetTextElementEnumerator(text);
        while (elements.MoveNext())
        {
            grapheme.Clear();
            var graphemeDisplayed = 0;
            foreach (var rune in elements.GetTextElement().EnumerateRunes())
            {
                graphemeDisplayed++;
                if (escape && rune.Value is '&' or '<' or '>' or '"')
                {
                    grapheme.Append(rune.Value switch { '&' => "&amp;", '<' => "&lt;", '>' => "&gt;", _ => "&quot;" });
                }
                else
                {
                    AppendStored(grapheme, rune);
                }
            }
            // Everything appended is BMP-only (references are ASCII), so its UTF-16 length is its character count.
            if (displayed + graphemeDisplayed > maxCharacters || stored + grapheme.Length > maxStored)
            {
                cut = true;
                break;
            }
            builder.Append(grapheme);
            displayed += graphemeDisplayed;
            stored += grapheme.Length;
        }
        // A cut may leave a trailing space, which phpBB's trimmed input never ends with.
        return cut ? builder.ToString().TrimEnd() : builder.ToString();
    }

    private static void AppendStored(StringBuilder builder, Rune rune)
    {
        if (rune.IsBmp)
        {
            builder.Append((char)rune.Value);
        }
        else
        {
            builder.Append("&#").Append(rune.Value.ToString(CultureInfo.InvariantCulture)).Append(';');
        }
    }

    private static int IndexOfSurrogate(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsSurrogate(text[i])) return i;
        }
        return -1;
    }

    [GeneratedRegex(@"&#(?:[xX](?<hex>[0-9a-fA-F]{1,6})|(?<dec>[0-9]{1,7}));")]
    private static partial Regex SupplementaryReference();
}
