using System.Net;
using System.Text.RegularExpressions;

namespace AtSync.Core.Forum.Text;

/// <summary>
/// phpBB text in both directions. This file: turns the text phpBB stores in <c>post_text</c> back into the BBCode its author typed, as phpBB's
/// <c>generate_text_for_edit</c> does:
/// <list type="bullet">
/// <item>phpBB 3.2+ (s9e TextFormatter XML, <c>&lt;r&gt;…&lt;/r&gt;</c> or <c>&lt;t&gt;…&lt;/t&gt;</c>): the XML keeps the original
/// markup in its text (<c>&lt;s&gt;[b]&lt;/s&gt;</c>), so removing every tag and decoding entities restores it.</item>
/// <item>phpBB 3.0/3.1 (text with a <c>bbcode_uid</c>): <c>[b:uid]</c> → <c>[b]</c>, smilies and magic links back to
/// their source, <c>&lt;br /&gt;</c> → newline, entities decoded.</item>
/// </list>
/// </summary>
public static partial class PhpbbText
{
    public static string ToBbcode(string? stored, string? bbcodeUid)
    {
        if (string.IsNullOrEmpty(stored)) return "";
        var trimmed = stored.AsSpan().TrimStart();
        if (trimmed.StartsWith("<r>") || trimmed.StartsWith("<t>") || trimmed.StartsWith("<r ") || trimmed.StartsWith("<t "))
        {
            return WebUtility.HtmlDecode(XmlTag().Replace(stored, ""));
        }
        return FromLegacy(stored, bbcodeUid);
    }

    private static string FromLegacy(string text, string? uid)
    {
        if (!string.IsNullOrEmpty(uid))
        {
            // [b:uid] [/b:uid] [list=1:uid] [*:uid] [/*:m:uid] [url=...:uid] — drop ":uid" (and phpBB's ":m"/":u"/":o" list markers).
            text = text.Replace(":m:" + uid + "]", "]", StringComparison.Ordinal)
                       .Replace(":u:" + uid + "]", "]", StringComparison.Ordinal)
                       .Replace(":o:" + uid + "]", "]", StringComparison.Ordinal)
                       .Replace(":" + uid + "]", "]", StringComparison.Ordinal);
        }
        text = LegacySmiley().Replace(text, m => m.Groups["code"].Value);
        text = LegacyLink().Replace(text, m => m.Groups["href"].Value);
        text = LegacyBreak().Replace(text, "\n");
        return WebUtility.HtmlDecode(text);
    }

    [GeneratedRegex(@"<[^>]*>")]
    private static partial Regex XmlTag();

    [GeneratedRegex(@"<!-- s(?<code>.*?) --><img [^>]*/?><!-- s\k<code> -->", RegexOptions.Singleline)]
    private static partial Regex LegacySmiley();

    [GeneratedRegex(@"<!-- (?<k>[mwel]) --><a [^>]*?href=""(?<href>[^""]*)""[^>]*>.*?</a><!-- \k<k> -->", RegexOptions.Singleline)]
    private static partial Regex LegacyLink();

    [GeneratedRegex(@"<br\s*/?>\r?\n?")]
    private static partial Regex LegacyBreak();
}
