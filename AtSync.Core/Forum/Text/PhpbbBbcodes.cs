using System.Globalization;
using System.Text.RegularExpressions;

namespace AtSync.Core.Forum.Text;

/// <summary>
/// phpBB 3.3's default BBCodes (phpBB/phpbb/textformatter/s9e/factory.php) with the attribute filters s9e applies to
/// them and the limits of phpBB's default configuration (<c>max_post_font_size</c> 200, s9e's nesting limit 10 and
/// tag limit 5000; no nesting limit on quotes). <c>[attachment]</c> and <c>[flash]</c> stay text: network posts
/// carry no attachments and flash is gone from browsers.
/// </summary>
internal static partial class PhpbbBbcodes
{
    public const int TagLimit = 5000;
    public const int MaxFontSize = 200;

    public static readonly TagDefinition LinkText = new()
    {
        Name = "LINK_TEXT", Kind = TagKind.Span, FilterAttributes = a => a,
    };

    private static readonly Dictionary<string, TagDefinition> ByBbcode = new(StringComparer.Ordinal)
    {
        ["B"] = new() { Name = "B", Kind = TagKind.Formatting, Rules = TagRules.AutoReopen, FilterAttributes = NoAttributes },
        ["I"] = new() { Name = "I", Kind = TagKind.Formatting, Rules = TagRules.AutoReopen, FilterAttributes = NoAttributes },
        ["U"] = new() { Name = "U", Kind = TagKind.Span, FilterAttributes = NoAttributes },
        ["COLOR"] = new() { Name = "COLOR", Kind = TagKind.Span, DefaultAttribute = "color", FilterAttributes = Color },
        ["SIZE"] = new() { Name = "SIZE", Kind = TagKind.Span, DefaultAttribute = "size", FilterAttributes = FontSize },
        ["URL"] = new()
        {
            Name = "URL", Kind = TagKind.Formatting, DefaultAttribute = "url", ContentAttribute = "url", ForceLookahead = true,
            FilterAttributes = a => Required(a, "url", PhpbbUrlFilter.Filter),
        },
        ["EMAIL"] = new()
        {
            Name = "EMAIL", Kind = TagKind.Formatting, DefaultAttribute = "email", ContentAttribute = "email", FilterAttributes = Email,
        },
        ["IMG"] = new()
        {
            Name = "IMG", Kind = TagKind.Image, DefaultAttribute = "src", ContentAttribute = "src",
            FilterAttributes = a => Required(a, "src", PhpbbUrlFilter.Filter),
        },
        ["QUOTE"] = new()
        {
            Name = "QUOTE", Kind = TagKind.Block, Rules = TagRules.IgnoreWhitespace, NestingLimit = int.MaxValue,
            DefaultAttribute = "author", FilterAttributes = Quote,
        },
        ["CODE"] = new()
        {
            Name = "CODE", Kind = TagKind.Code, DefaultAttribute = "lang",
            Rules = TagRules.IgnoreWhitespace | TagRules.IgnoreTags | TagRules.DisableAutoBr | TagRules.TrimFirstLine,
            FilterAttributes = a => Optional(a, "lang", v => Identifier().IsMatch(v) ? v : null),
        },
        ["LIST"] = new()
        {
            Name = "LIST", Kind = TagKind.List, Rules = TagRules.IgnoreWhitespace, DefaultAttribute = "type", FilterAttributes = ListType,
        },
        ["*"] = new() { Name = "LI", Kind = TagKind.ListItem, Rules = TagRules.IgnoreWhitespace, FilterAttributes = NoAttributes },
    };

    /// <summary>The definition of a BBCode name (upper case, <c>*</c> for list items), or null for unknown names.</summary>
    public static TagDefinition? Find(string bbcodeName) => ByBbcode.GetValueOrDefault(bbcodeName);

    /// <summary>The definition of a tag name in the XML (<c>LI</c> for <c>[*]</c>).</summary>
    public static TagDefinition? FindTag(string tagName) =>
        tagName == "LI" ? ByBbcode["*"] : tagName == LinkText.Name ? LinkText : ByBbcode.GetValueOrDefault(tagName);

    private static Dictionary<string, string> NoAttributes(IReadOnlyDictionary<string, string> attributes) => new(StringComparer.Ordinal);

    private static Dictionary<string, string>? Required(IReadOnlyDictionary<string, string> a, string name, Func<string, string?> filter)
    {
        if (!a.TryGetValue(name, out var raw) || filter(raw) is not { } value) return null;
        return new(StringComparer.Ordinal) { [name] = value };
    }

    private static Dictionary<string, string> Optional(IReadOnlyDictionary<string, string> a, string name, Func<string, string?> filter)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (a.TryGetValue(name, out var raw) && filter(raw) is { } value) result[name] = value;
        return result;
    }

    private static Dictionary<string, string>? Color(IReadOnlyDictionary<string, string> a) =>
        Required(a, "color", v => ColorValue().IsMatch(v) ? v : null);

    /// <summary>phpBB's <c>parser::filter_font_size</c>: numeric, at least 1, at most <c>max_post_font_size</c>.</summary>
    private static Dictionary<string, string>? FontSize(IReadOnlyDictionary<string, string> a) =>
        Required(a, "size", v => PhpNumeric().IsMatch(v)
            && double.TryParse(v, NumberStyles.Float | NumberStyles.AllowLeadingWhite | NumberStyles.AllowTrailingWhite, CultureInfo.InvariantCulture, out var size)
            && size >= 1 && size <= MaxFontSize ? v : null);

    private static Dictionary<string, string>? Email(IReadOnlyDictionary<string, string> a)
    {
        var result = Required(a, "email", v => EmailAddress().IsMatch(v) && v.Length <= 320 ? v : null);
        if (result is null) return null;
        foreach (var name in (string[])["body", "subject"])
        {
            if (a.TryGetValue(name, out var v)) result[name] = PhpbbUrlFilter.RawUrlEncode(v);
        }
        return result;
    }

    /// <summary><c>{HASHMAP=1:decimal,a:lower-alpha,A:upper-alpha,i:lower-roman,I:upper-roman;optional;postFilter=#simpletext}</c>.</summary>
    private static Dictionary<string, string> ListType(IReadOnlyDictionary<string, string> a) =>
        Optional(a, "type", v =>
        {
            var mapped = v switch
            {
                "1" => "decimal",
                "a" => "lower-alpha",
                "A" => "upper-alpha",
                "i" => "lower-roman",
                "I" => "upper-roman",
                _ => v,
            };
            return SimpleText().IsMatch(mapped) ? mapped : null;
        });

    /// <summary>phpBB's <c>[QUOTE author={TEXT1} post_id={UINT} … url={URL} user_id={UINT} author={PARSE=…}]</c>.</summary>
    private static Dictionary<string, string> Quote(IReadOnlyDictionary<string, string> raw)
    {
        var a = new Dictionary<string, string>(raw, StringComparer.Ordinal);
        foreach (var parse in (Regex[])[QuoteAuthorUrlDescription(), QuoteAuthorUrl(), QuoteAuthorBareUrl()])
        {
            if (!a.TryGetValue("author", out var author) || parse.Match(author) is not { Success: true } m) continue;
            foreach (var name in (string[])["author", "url"])
            {
                if (m.Groups[name] is { Success: true } g && (name == "author" || !a.ContainsKey(name))) a[name] = g.Value;
            }
        }
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (a.TryGetValue("author", out var text)) result["author"] = text;
        foreach (var name in (string[])["msg_id", "post_id", "time", "user_id"])
        {
            if (a.TryGetValue(name, out var v) && Uint().IsMatch(v)) result[name] = v;
        }
        if (a.TryGetValue("url", out var url) && PhpbbUrlFilter.Filter(url) is { } filtered) result["url"] = filtered;
        // post_url, msg_url and profile_url are {URL;postFilter=#false}: never accepted from a post.
        return result;
    }

    [GeneratedRegex(@"^(?:#(?:(?:[0-9a-f]{3}){1,2}|(?:[0-9a-f]{4}){1,2})|rgb\(\d{1,3}, *\d{1,3}, *\d{1,3}\)|rgba\(\d{1,3}, *\d{1,3}, *\d{1,3}, *\d*(?:\.\d+)?\)|[a-z]+)\z", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex ColorValue();

    [GeneratedRegex(@"^[ \t\n\r\v\f]*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?[ \t\n\r\v\f]*\z")]
    private static partial Regex PhpNumeric();

    [GeneratedRegex(@"^[-0-9A-Za-z_]+\z")]
    private static partial Regex Identifier();

    [GeneratedRegex(@"^[- +,.0-9A-Za-z_]+\z")]
    private static partial Regex SimpleText();

    [GeneratedRegex(@"^(?:0|[1-9][0-9]*)\z")]
    private static partial Regex Uint();

    // PHP's FILTER_VALIDATE_EMAIL, restricted to dot-atom local parts and host names (no quoted strings or IP literals).
    [GeneratedRegex(@"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[A-Za-z0-9]+(?:-+[A-Za-z0-9]+)*\.)+(?:[A-Za-z][A-Za-z0-9]*|xn--[A-Za-z0-9]+)(?:-+[A-Za-z0-9]+)*\z")]
    private static partial Regex EmailAddress();

    [GeneratedRegex(@"^\[url=(?<url>.*?)\](?<author>.*)\[/url\]$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex QuoteAuthorUrlDescription();

    [GeneratedRegex(@"^\[url\](?<author>(?<url>.*?))\[/url\]$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex QuoteAuthorUrl();

    [GeneratedRegex(@"(?<url>https?://[^[\]]+)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex QuoteAuthorBareUrl();
}
