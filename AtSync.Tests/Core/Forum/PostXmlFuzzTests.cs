using System.Text;
using System.Xml.Linq;
using AtSync.Core.Forum.Text;

namespace AtSync.Tests.Core.Forum;

/// <summary>
/// Thousands of generated hostile post texts (random Unicode with controls, lone surrogates and non-characters, markup
/// soup of BBCode fragments, HTML and URLs, huge fields): the parser never throws, every output is well-formed XML with
/// only phpBB's elements and attributes, every URL attribute has an allowed scheme, and the edit form gives back the
/// text exactly (nothing lost, nothing added).
/// </summary>
public sealed class PostXmlFuzzTests
{
    private static readonly HashSet<string> Elements =
        ["r", "t", "s", "e", "i", "br", "B", "I", "U", "COLOR", "SIZE", "URL", "EMAIL", "IMG", "QUOTE", "CODE", "LIST", "LI", "LINK_TEXT"];

    private static readonly HashSet<string> Attributes =
        ["url", "src", "email", "subject", "body", "color", "size", "type", "lang", "author", "post_id", "msg_id", "time", "user_id", "text"];

    private static readonly string[] Soup =
    [
        "[b]", "[/b]", "[i]", "[/i]", "[u]", "[/u]", "[quote]", "[/quote]", "[quote=\"", "[quote=", "\"]", "]", "[", "[/", "[code]", "[/code]",
        "[code=php]", "[list]", "[list=1]", "[list=a]", "[/list]", "[*]", "[/*]", "[url]", "[url=", "[/url]", "[email]", "[/email]",
        "[img]", "[/img]", "[color=red]", "[color=#abc]", "[/color]", "[size=150]", "[size=9999]", "[/size]", "[B]", "[/URL]",
        "http://a.test/x?y=1&z=2", "https://b.test/(p)", "www.c.test", "javascript:alert(1)", "ftp://d.test/", "mailto:e@f.test", "g@h.test",
        "<script>", "</script>", "<img src=x onerror=alert(1)>", "&amp;", "&lt;", "&#0;", "\"", "'", "\\", "\n", "\n\n", "\r\n", "\r", "\t", " ",
        "\u0000", "\u001B", "\uFFFE", "\uFFFF", "\uD800", "\uDC00", "😀", "e\u0301", "\u202E", "\uFEFF", ":)", "[quote=\"a\\\"b\"]", "[b/]", "[b:1]", "[/b:1]",
    ];

    [Fact]
    public void Generated_hostile_texts_give_valid_escaped_xml_that_edits_back_exactly()
    {
        var random = new Random(12);
        for (var n = 0; n < 4000; n++)
        {
            var text = n % 3 == 0 ? RandomUnicode(random, random.Next(0, 400)) : MarkupSoup(random, random.Next(0, 120));
            Check(text);
        }
    }

    public static TheoryData<string> HugeCases => new()
    {
        "brackets", "bold starts", "unterminated attributes", "long attribute whitespace", "email soup", "url punctuation", "url starts",
        "soup", "unicode",
    };

    [Theory]
    [MemberData(nameof(HugeCases))]
    public void Huge_fields_stay_valid(string kind)
    {
        var random = new Random(7);
        Check(kind switch
        {
            "brackets" => new string('[', 100_000),
            "bold starts" => string.Concat(Enumerable.Repeat("[b]", 33_000)),
            "unterminated attributes" => string.Concat(Enumerable.Repeat("[quote=a ", 10_000)) + "]",
            "long attribute whitespace" => "[quote=a" + new string(' ', 90_000) + "b]x[/quote]",
            "email soup" => "@ " + string.Concat(Enumerable.Repeat("a.", 45_000)),
            "url punctuation" => "http://x.test/" + new string('!', 90_000) + "x",
            "url starts" => string.Concat(Enumerable.Repeat("[url]", 20_000)) + "[/url]",
            "soup" => MarkupSoup(random, 20_000),
            _ => RandomUnicode(random, 100_000),
        });
    }

    private static void Check(string text)
    {
        var xml = PhpbbPostXml.FromBbcode(text);
        XDocument doc;
        try
        {
            doc = XDocument.Parse(xml, LoadOptions.PreserveWhitespace);
        }
        catch (System.Xml.XmlException ex)
        {
            throw new Xunit.Sdk.XunitException($"not XML ({ex.Message}) for input {Describe(text)}: {xml}");
        }
        Assert.Contains(doc.Root!.Name.LocalName, (string[])["r", "t"]);
        foreach (var element in doc.Descendants())
        {
            Assert.True(Elements.Contains(element.Name.LocalName), $"element {element.Name} for input {Describe(text)}");
            foreach (var attribute in element.Attributes())
            {
                Assert.True(Attributes.Contains(attribute.Name.LocalName), $"attribute {attribute.Name} for input {Describe(text)}");
                if (attribute.Name.LocalName is "url" or "src")
                {
                    var value = attribute.Value;
                    // What a browser takes as the scheme (RFC 3986: a letter, then letters, digits, + - .) must be allowed.
                    var scheme = System.Text.RegularExpressions.Regex.Match(value, "^([A-Za-z][A-Za-z0-9+.-]*):");
                    if (scheme.Success) Assert.Contains(scheme.Groups[1].Value.ToLowerInvariant(), (string[])["http", "https", "ftp"]);
                    Assert.DoesNotContain(value, c => c is '"' or '<' or '>' or '\'' or ' ' || char.IsControl(c));
                }
            }
        }
        Assert.Equal(XmlSafeText.Clean(text), PhpbbText.ToBbcode(xml, ""));
    }

    private static string RandomUnicode(Random random, int length)
    {
        var builder = new StringBuilder(length);
        for (var i = 0; i < length; i++)
        {
            builder.Append(random.Next(6) switch
            {
                0 => (char)random.Next(0, 0x20),
                1 => (char)random.Next(0xD800, 0xE000),
                2 => (char)random.Next(0xFFF0, 0x10000),
                3 => "[]<>&\"'=/*:"[random.Next(11)],
                _ => (char)random.Next(0x20, 0xD800),
            });
        }
        return builder.ToString();
    }

    private static string MarkupSoup(Random random, int pieces)
    {
        var builder = new StringBuilder();
        for (var i = 0; i < pieces; i++)
        {
            builder.Append(random.Next(4) == 0 ? RandomUnicode(random, random.Next(1, 6)) : Soup[random.Next(Soup.Length)]);
        }
        return builder.ToString();
    }

    private static string Describe(string text) =>
        text.Length > 200 ? $"({text.Length} chars) {Escape(text[..200])}…" : Escape(text);

    private static string Escape(string text) =>
        string.Concat(text.Select(c => c < 0x20 || char.IsSurrogate(c) || c > 0xFFF0 ? $"\\u{(int)c:X4}" : c.ToString()));
}
