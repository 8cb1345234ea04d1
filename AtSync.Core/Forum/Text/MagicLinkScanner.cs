using System.Text.RegularExpressions;

namespace AtSync.Core.Forum.Text;

/// <summary>
/// phpBB's magic URLs: s9e's Autoemail and Autolink plugins (with <c>matchWww</c>, as phpBB's factory loads them), with
/// the schemes phpBB allows by default. A link is a zero-width <c>URL</c>/<c>EMAIL</c> pair around the address; an
/// Autolink's content is protected from other tags (verbatim).
/// </summary>
internal static partial class MagicLinkScanner
{
    public static void Scan(string text, PhpbbXmlBuilder builder)
    {
        if (text.Contains('@'))
        {
            foreach (Match m in EmailAddress().Matches(text))
            {
                var start = builder.AddStartTag(PhpbbBbcodes.Find("EMAIL")!, m.Index, 0);
                start.SetAttributes([new("email", m.Value)]);
                start.PairWith(builder.AddEndTag(PhpbbBbcodes.Find("EMAIL")!, m.Index + m.Length, 0));
            }
        }
        if (!text.Contains(':') && !text.Contains("www.", StringComparison.OrdinalIgnoreCase)) return;
        foreach (Match m in Url().Matches(text))
        {
            var url = TrimTrailingPunctuation(m.Value);
            if (url.Length < 4) continue;
            var definition = PhpbbBbcodes.Find("URL")!;
            var end = builder.AddEndTag(definition, m.Index + url.Length, 0);
            var start = builder.AddStartTag(definition, m.Index, 0, 1);
            start.SetAttributes([new("url", url[3] == '.' ? "http://" + url : url)]);
            start.PairWith(end);
            start.CascadeInvalidationTo(builder.AddVerbatim(m.Index, url.Length, 1000));
        }
    }

    /// <summary>
    /// Autolink's <c>trimUrl</c>: drops most ASCII non-letters and Unicode punctuation from the end, except
    /// <c>- = + ) / _</c> (src/Plugins/Autolink/Parser.php). A loop, not its regex, so a long run stays linear.
    /// </summary>
    private static string TrimTrailingPunctuation(string url)
    {
        var end = url.Length;
        while (end > 0)
        {
            var c = url[end - 1];
            var trimmed = c is not ('-' or '=' or '+' or ')' or '/' or '_')
                && (char.IsWhiteSpace(c) || c is (>= '!' and <= '.') or (>= ':' and <= '@') or (>= '[' and <= '`') or (>= '{' and <= '~')
                    || char.IsPunctuation(c));
            if (!trimmed) break;
            end--;
        }
        return url[..end];
    }

    // Linear-time engines: a hostile text must not make these quadratic.
    [GeneratedRegex(@"\b[-a-z0-9_+.]+@[-a-z0-9.]*[a-z0-9]", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex EmailAddress();

    [GeneratedRegex(@"\b(?:(?:ftp|https?):|www\.)(?:[^\s()\[\]\uFF01-\uFF0F\uFF1A-\uFF20\uFF3B-\uFF40\uFF5B-\uFF65]|\([^\s()]*\)|\[\w*\])+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex Url();

}
