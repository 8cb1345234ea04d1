using AtSync.Core.Forum.Text;

namespace AtSync.Tests.Core.Forum;

public sealed class PhpbbTextTests
{
    [Theory]
    // phpBB 3.2+ (s9e TextFormatter XML): tags removed, the original markup kept, entities decoded.
    [InlineData("<t>plain &amp; simple</t>", "", "plain & simple")]
    [InlineData("<r><B><s>[b]</s>bold<e>[/b]</e></B> and <URL url=\"https://x.test/\"><s>[url]</s>https://x.test/<e>[/url]</e></URL></r>", "",
        "[b]bold[/b] and [url]https://x.test/[/url]")]
    [InlineData("<r>line1<br/>\nline2 <E>:)</E> &#128512;</r>", "", "line1\nline2 :) 😀")]
    [InlineData("<r><QUOTE author=\"bob\"><s>[quote=\"bob\"]</s>hi<e>[/quote]</e></QUOTE></r>", "", "[quote=\"bob\"]hi[/quote]")]
    // phpBB 3.0/3.1: bbcode_uid stripped, smilies and magic links back to their source, <br /> to newlines.
    [InlineData("[b:1a2b3c4d]bold[/b:1a2b3c4d]<br />next", "1a2b3c4d", "[b]bold[/b]\nnext")]
    [InlineData("[list:1a2b3c4d][*:1a2b3c4d]one[/*:m:1a2b3c4d][/list:u:1a2b3c4d]", "1a2b3c4d", "[list][*]one[/*][/list]")]
    [InlineData("hi <!-- s:) --><img src=\"{SMILIES_PATH}/icon_e_smile.gif\" alt=\":)\" title=\"Smile\" /><!-- s:) --> &lt;3", "", "hi :) <3")]
    [InlineData("see <!-- m --><a class=\"postlink\" href=\"https://example.org/a?b=1&amp;c=2\">https://example.org/a?b=1&amp;c=2</a><!-- m -->", "",
        "see https://example.org/a?b=1&c=2")]
    public void Stored_post_text_becomes_the_bbcode_its_author_typed(string stored, string uid, string expected) =>
        Assert.Equal(expected, PhpbbText.ToBbcode(stored, uid));

    [Fact]
    public void Empty_text_is_empty() => Assert.Equal("", PhpbbText.ToBbcode(null, null));
}
