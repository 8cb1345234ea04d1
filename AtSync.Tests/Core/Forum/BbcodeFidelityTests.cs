using AtSync.Core.Forum.Text;

namespace AtSync.Tests.Core.Forum;

/// <summary>
/// The stored XML for phpBB's default BBCodes against phpBB 3.3's own TextFormatter output for the same input, from
/// phpBB's public test fixtures (github.com/phpbb/phpbb, branch 3.3.x), and the way back through the QueueWorker's
/// <c>ToBbcode</c> to the text the author wrote. "MP" = tests/text_processing/message_parser_test.php,
/// "GS" = tests/text_processing/generate_text_for_storage_test.php, "DF" = tests/text_formatter/s9e/default_formatting_test.php,
/// "UT" = tests/text_formatter/s9e/utils_test.php, "RP" = tests/text_reparser/plugins/*.
/// Rows marked "rendered" check the XML whose rendering is DF's expected HTML (DF asserts HTML, not XML). Rows marked
/// "no smilies" are the fixture with its <c>&lt;E&gt;</c> smiley elements absent: AtSync stores smilies as text.
/// </summary>
public sealed class BbcodeFidelityTests
{
    public static TheoryData<string, string, string> Fixtures => new()
    {
        { "MP get_test_cases #1", "[b]bold[/b]", "<r><B><s>[b]</s>bold<e>[/b]</e></B></r>" },
        { "MP get_test_cases #3", "http://example.org", "<r><URL url=\"http://example.org\">http://example.org</URL></r>" },
        { "MP get_test_cases #7 (url around img)", "[url=http://example.org][img]http://example.org/img.png[/img][/url]",
            "<r><URL url=\"http://example.org\"><s>[url=http://example.org]</s><IMG src=\"http://example.org/img.png\"><s>[img]</s>http://example.org/img.png<e>[/img]</e></IMG><e>[/url]</e></URL></r>" },
        { "MP get_test_cases #9 (flash stays text)", "[flash=12,34]http://example.org/foo.swf[/flash]",
            "<r>[flash=12,34]<URL url=\"http://example.org/foo.swf\">http://example.org/foo.swf</URL>[/flash]</r>" },
        { "MP get_test_cases #10 (quote with author; no smilies)", "[quote=\"foo\"]bar :)[/quote]",
            "<r><QUOTE author=\"foo\"><s>[quote=\"foo\"]</s>bar :)<e>[/quote]</e></QUOTE></r>" },
        { "MP get_test_cases #14 (size within max_post_font_size 200)", "[size=200]200[/size]",
            "<r><SIZE size=\"200\"><s>[size=200]</s>200<e>[/size]</e></SIZE></r>" },
        { "MP get_test_cases #16 (size over the maximum)", "[size=2000]2000[/size]", "<t>[size=2000]2000[/size]</t>" },
        { "MP get_test_cases #17 (size 0)", "[size=0]0[/size]", "<t>[size=0]0[/size]</t>" },
        { "MP get_test_cases #20 (img content is a magic link)", "[img]http://example.org/100x100.png[/img]",
            "<r><IMG src=\"http://example.org/100x100.png\"><s>[img]</s><URL url=\"http://example.org/100x100.png\">http://example.org/100x100.png</URL><e>[/img]</e></IMG></r>" },
        { "MP get_test_cases (max_post_urls 0)", "http://example.org http://example.org http://example.org",
            "<r><URL url=\"http://example.org\">http://example.org</URL> <URL url=\"http://example.org\">http://example.org</URL> <URL url=\"http://example.org\">http://example.org</URL></r>" },
        { "MP get_test_polls #1 title", "foo [b]bar[/b] baz", "<r>foo <B><s>[b]</s>bar<e>[/b]</e></B> baz</r>" },
        { "MP test_parse_poll message", "Me[i]s[/i]sage", "<r>Me<I><s>[i]</s>s<e>[/i]</e></I>sage</r>" },
        { "MP get_test_polls #3 (unclosed start tag)", "[b]x", "<r><B><s>[b]</s>x</B></r>" },
        { "MP get_test_polls #3 (end tag without start)", "y[/b]", "<t>y[/b]</t>" },
        { "GS #1", "Hello world", "<t>Hello world</t>" },
        { "GS #2 (url with description; no smilies)", "Hello [url=http://example.org]world[/url] :)",
            "<r>Hello <URL url=\"http://example.org\"><s>[url=http://example.org]</s>world<e>[/url]</e></URL> :)</r>" },
        { "GS #3 (escaping)", "&<>\"'", "<t>&amp;&lt;&gt;\"'</t>" },
        { "GS #9 (quote)", "[quote]...[/quote]", "<r><QUOTE><s>[quote]</s>...<e>[/quote]</e></QUOTE></r>" },
        { "GS #10 (url)", "[url]http://example.org[/url]", "<r><URL url=\"http://example.org\"><s>[url]</s>http://example.org<e>[/url]</e></URL></r>" },
        { "DF test_default_formatting (code, code=php)", "[code]...[/code][code=php]...[/code]",
            "<r><CODE><s>[code]</s>...<e>[/code]</e></CODE><CODE lang=\"php\"><s>[code=php]</s>...<e>[/code]</e></CODE></r>" },
        { "UT test_clean_formatting", "[b]bold[/b] & [i]italic[/i]",
            "<r><B><s>[b]</s>bold<e>[/b]</e></B> &amp; <I><s>[i]</s>italic<e>[/i]</e></I></r>" },
        { "UT test_unparse (line break)", "Multi\nline", "<t>Multi<br/>\nline</t>" },
        { "RP contact_admin_info_test (email)", "[email]admin@example.org[/email]",
            "<r><EMAIL email=\"admin@example.org\"><s>[email]</s>admin@example.org<e>[/email]</e></EMAIL></r>" },
        { "RP post_text_test (magic URL)", "https://www.example.com and some more text test included",
            "<r><URL url=\"https://www.example.com\">https://www.example.com</URL> and some more text test included</r>" },
        { "DF rendered: underline", "[u]underlined[/u]", "<r><U><s>[u]</s>underlined<e>[/u]</e></U></r>" },
        { "DF rendered: color #FF0000", "[color=#FF0000]colored[/color]", "<r><COLOR color=\"#FF0000\"><s>[color=#FF0000]</s>colored<e>[/color]</e></COLOR></r>" },
        { "DF rendered: color red", "[color=red]colored[/color]", "<r><COLOR color=\"red\"><s>[color=red]</s>colored<e>[/color]</e></COLOR></r>" },
        { "DF rendered: quote with author", "[quote=\"username\"]quoted[/quote]", "<r><QUOTE author=\"username\"><s>[quote=\"username\"]</s>quoted<e>[/quote]</e></QUOTE></r>" },
        { "DF rendered: list without items", "[list]no item[/list]", "<r><LIST><s>[list]</s><LI>no item</LI><e>[/list]</e></LIST></r>" },
        { "DF rendered: [*] outside a list", "[*]unparsed", "<t>[*]unparsed</t>" },
        { "DF rendered: list", "[list][*]item[/list]", "<r><LIST><s>[list]</s><LI><s>[*]</s>item</LI><e>[/list]</e></LIST></r>" },
        { "DF rendered: list with [/*]", "[list][*]item[/*][/list]", "<r><LIST><s>[list]</s><LI><s>[*]</s>item<e>[/*]</e></LI><e>[/list]</e></LIST></r>" },
        { "DF rendered: list=1", "[list=1][*]item[/list]", "<r><LIST type=\"decimal\"><s>[list=1]</s><LI><s>[*]</s>item</LI><e>[/list]</e></LIST></r>" },
        { "DF rendered: list=a", "[list=a][*]item[/list]", "<r><LIST type=\"lower-alpha\"><s>[list=a]</s><LI><s>[*]</s>item</LI><e>[/list]</e></LIST></r>" },
        { "DF rendered: list=disc", "[list=disc][*]item[/list]", "<r><LIST type=\"disc\"><s>[list=disc]</s><LI><s>[*]</s>item</LI><e>[/list]</e></LIST></r>" },
        { "DF rendered: img", "[img]https://area51.phpbb.com/images/area51.png[/img]",
            "<r><IMG src=\"https://area51.phpbb.com/images/area51.png\"><s>[img]</s><URL url=\"https://area51.phpbb.com/images/area51.png\">https://area51.phpbb.com/images/area51.png</URL><e>[/img]</e></IMG></r>" },
        { "DF rendered: img with a refused scheme stays text", "[img]foo://area51.phpbb.com/images/area51.png[/img]", "<t>[img]foo://area51.phpbb.com/images/area51.png[/img]</t>" },
        { "DF rendered: email with description", "[email=bbcode-test@phpbb.com]Email[/email]",
            "<r><EMAIL email=\"bbcode-test@phpbb.com\"><s>[email=bbcode-test@phpbb.com]</s>Email<e>[/email]</e></EMAIL></r>" },
        { "DF rendered: PHPBB3-1401 bracket in author", "[quote=\"[test]test\"]test [ test[/quote]",
            "<r><QUOTE author=\"[test]test\"><s>[quote=\"[test]test\"]</s>test [ test<e>[/quote]</e></QUOTE></r>" },
        { "DF rendered: PHPBB3-8096 unterminated quote attribute", "[quote=\"a\"]a[/quote][quote=\"a]a[/quote]",
            "<r><QUOTE author=\"a\"><s>[quote=\"a\"]</s>a<e>[/quote]</e></QUOTE>[quote=\"a]a[/quote]</r>" },
        { "DF rendered: nesting", "[b]bold [i]bold + italic[/i][/b]",
            "<r><B><s>[b]</s>bold <I><s>[i]</s>bold + italic<e>[/i]</e></I><e>[/b]</e></B></r>" },
        { "DF rendered: bad nesting reopens italic", "[b]bold [i]bold + italic[/b] italic[/i]",
            "<r><B><s>[b]</s>bold <I><s>[i]</s>bold + italic</I><e>[/b]</e></B><I> italic<e>[/i]</e></I></r>" },
        { "DF rendered: no tags inside code", "[code]unparsed code [b]bold [i]bold + italic[/i][/b][/code]",
            "<r><CODE><s>[code]</s>unparsed code [b]bold [i]bold + italic[/i][/b]<e>[/code]</e></CODE></r>" },
        { "DF rendered: code keeps newlines, drops the first", "[code]\n\tline1\n  line2[/code]",
            "<r><CODE><s>[code]</s><i>\n</i>\tline1\n  line2<e>[/code]</e></CODE></r>" },
        { "DF rendered: www. magic link", "... www.example.org ...", "<r>... <URL url=\"http://www.example.org\">www.example.org</URL> ...</r>" },
        { "DF rendered: trailing punctuation is not linked", "www.phpbb.com/community/?",
            "<r><URL url=\"http://www.phpbb.com/community/\">www.phpbb.com/community/</URL>?</r>" },
        { "DF rendered: long magic link text shortened", "http://www.phpbb.com/community/path/to/long/url/file.ext#section",
            "<r><URL url=\"http://www.phpbb.com/community/path/to/long/url/file.ext#section\"><LINK_TEXT text=\"http://www.phpbb.com/community/path/to/ ... xt#section\">http://www.phpbb.com/community/path/to/long/url/file.ext#section</LINK_TEXT></URL></r>" },
        { "DF rendered: quote=url author", "[quote=http://example.org]...[/quote]",
            "<r><QUOTE author=\"http://example.org\" url=\"http://example.org\"><s>[quote=http://example.org]</s>...<e>[/quote]</e></QUOTE></r>" },
        { "DF rendered: post_url from a post is dropped", "[quote=\"Username\" post_url=\"http://fake.example.org\"]...[/quote]",
            "<r><QUOTE author=\"Username\"><s>[quote=\"Username\" post_url=\"http://fake.example.org\"]</s>...<e>[/quote]</e></QUOTE></r>" },
        { "DF rendered: quote keeps its newlines", "[quote]\nThis is a long quote\n[/quote]\n\nFollowed by a reply",
            "<r><QUOTE><s>[quote]</s>\nThis is a long quote\n<e>[/quote]</e></QUOTE>\n\nFollowed by a reply</r>" },
    };

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Stored_xml_is_phpbbs_and_edits_back_to_the_original(string source, string bbcode, string expectedXml)
    {
        var xml = PhpbbPostXml.FromBbcode(bbcode);
        Assert.True(expectedXml == xml, $"{source}\nexpected {expectedXml}\nactual   {xml}");
        Assert.Equal(bbcode, PhpbbText.ToBbcode(xml, ""));
    }

    public static TheoryData<string, string> Hostile => new()
    {
        // Quotes in URLs are percent-encoded by s9e's URL filter; in text they stay as typed (ENT_NOQUOTES).
        { "[url=http://x.test/a\"onmouseover=\"alert(1)]x[/url]", "<r><URL url=\"http://x.test/a%22onmouseover=%22alert%281%29\"><s>[url=http://x.test/a\"onmouseover=\"alert(1)]</s>x<e>[/url]</e></URL></r>" },
        { "[url=\"http://x.test/'q'\"]x[/url]", "<r><URL url=\"http://x.test/%27q%27\"><s>[url=\"http://x.test/'q'\"]</s>x<e>[/url]</e></URL></r>" },
        { "[url=javascript:alert(1)]x[/url]", "<t>[url=javascript:alert(1)]x[/url]</t>" },
        { "[img]javascript:alert(1)[/img]", "<t>[img]javascript:alert(1)[/img]</t>" },
        { "<script>alert(1)</script>", "<t>&lt;script&gt;alert(1)&lt;/script&gt;</t>" },
        { "[color=red;background:url(x)]x[/color]", "<t>[color=red;background:url(x)]x[/color]</t>" },
        { "[quote=\"a\\\"b\"]x[/quote]", "<r><QUOTE author=\"a&quot;b\"><s>[quote=\"a\\\"b\"]</s>x<e>[/quote]</e></QUOTE></r>" },
        { "[b][i]x[/b][/i]", "<r><B><s>[b]</s><I><s>[i]</s>x</I><e>[/b]</e></B><i>[/i]</i></r>" },
        { "[b]a[quote]b[/quote]c[/b]", "<r><B><s>[b]</s>a</B><QUOTE><s>[quote]</s><B>b</B><e>[/quote]</e></QUOTE><B>c<e>[/b]</e></B></r>" },
        { "[color=red][quote]x[/quote][/color]", "<r><COLOR color=\"red\"><s>[color=red]</s>[quote]x[/quote]<e>[/color]</e></COLOR></r>" },
        { "[url=http://a.test]http://b.test[/url]", "<r><URL url=\"http://a.test\"><s>[url=http://a.test]</s>http://b.test<e>[/url]</e></URL></r>" },
        { "[list]\n[*]one\n[*]two\n[/list]", "<r><LIST><s>[list]</s>\n<LI><s>[*]</s>one</LI>\n<LI><s>[*]</s>two</LI>\n<e>[/list]</e></LIST></r>" },
        { "a\u0000b\u001Bc\uFFFEd\uFFFF", "<t>abcd</t>" },
    };

    [Theory]
    [MemberData(nameof(Hostile))]
    public void Hostile_markup_is_escaped_or_refused(string bbcode, string expectedXml)
    {
        var xml = PhpbbPostXml.FromBbcode(bbcode);
        Assert.Equal(expectedXml, xml);
        Assert.Equal(XmlSafeText.Clean(bbcode), PhpbbText.ToBbcode(xml, ""));
    }
}
