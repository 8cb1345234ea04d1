using System.Net;
using AtSync.Core.Forum.Text;

namespace AtSync.Tests.Core.Forum;

/// <summary>Characters and lengths as phpBB 3.3 stores them (utf8_encode_ucr, htmlspecialchars, truncate_string).</summary>
public sealed class PhpbbColumnTextTests
{
    public static TheoryData<string, string> Supplementary => new()
    {
        { "plain ASCII", "plain ASCII" },
        { "Party 🎉 time", "Party &#127881; time" },
        { "😀", "&#128512;" },
        { "CJK 中文 and 𠀋 (extension B)", "CJK 中文 and &#131083; (extension B)" },
        { "שלום עולם", "שלום עולם" },
        { "👩‍💻", "&#128105;\u200D&#128187;" },
        { "e\u0301 q\u0303", "e\u0301 q\u0303" },
    };

    [Theory]
    [MemberData(nameof(Supplementary))]
    public void Characters_outside_the_BMP_become_references_as_utf8_encode_ucr_writes_them(string text, string stored)
    {
        var encoded = PhpbbColumnText.EncodeSupplementary(text);

        Assert.Equal(stored, encoded);
        Assert.DoesNotContain(encoded, char.IsSurrogate);
        Assert.Equal(text, PhpbbColumnText.DecodeSupplementary(encoded));
        Assert.Equal(text, WebUtility.HtmlDecode(encoded));
    }

    [Fact]
    public void A_lone_surrogate_which_UTF8_cannot_hold_becomes_the_replacement_character()
    {
        Assert.Equal("lone \uFFFD surrogate", PhpbbColumnText.EncodeSupplementary("lone \uD83D surrogate"));
    }

    [Fact]
    public void Decoding_leaves_references_to_BMP_characters_and_malformed_ones_as_stored()
    {
        Assert.Equal("&#65; &#x41; &#1234567; &#xFFFFFF; &#; 😀 😀", PhpbbColumnText.DecodeSupplementary("&#65; &#x41; &#1234567; &#xFFFFFF; &#; &#128512; &#x1F600;"));
    }

    public static TheoryData<string, string> Subjects => new()
    {
        { "  Hello & <welcome> \"all\" it's  ", "Hello &amp; &lt;welcome&gt; &quot;all&quot; it's" },
        { "Résumé 🎉", "Résumé &#127881;" },
        { "line\r\nbreak\rand\nmore", "line break and more" },
        { "nul\0 and \uFEFFbom", "nul and bom" },
        { "decomposed e\u0301", "decomposed e\u0301" },
        { "مرحبا بالعالم", "مرحبا بالعالم" },
    };

    [Theory]
    [MemberData(nameof(Subjects))]
    public void Subjects_are_stored_as_phpbbs_request_layer_and_utf8_encode_ucr_leave_them(string typed, string stored)
    {
        Assert.Equal(stored, PhpbbColumnText.Subject(typed));
    }

    [Theory]
    [MemberData(nameof(Subjects))]
    public void Truncating_a_stored_subject_again_changes_nothing(string typed, string stored)
    {
        Assert.Equal(stored, PhpbbColumnText.Truncate(PhpbbColumnText.Subject(typed)));
    }

    [Fact]
    public void Truncate_takes_an_escaped_value_as_the_request_layer_leaves_it_and_counts_as_truncate_string()
    {
        // htmlspecialchars output with an emoji still raw: the cut counts "&amp;" as one character, the emoji as one.
        var escaped = "&amp;" + new string('x', 118) + "😀😀";
        Assert.Equal("&amp;" + new string('x', 118) + "&#128512;", PhpbbColumnText.Truncate(escaped));
        Assert.Equal("Tom &amp; Jerry &quot;&#127881;&quot;", PhpbbColumnText.Truncate("Tom &amp; Jerry &quot;🎉&quot;"));
    }

    [Fact]
    public void A_long_emoji_subject_is_cut_to_the_stored_limit_between_whole_references()
    {
        var subject = string.Concat(Enumerable.Repeat("😀", 200));

        var stored = PhpbbColumnText.Subject(subject);

        // Each emoji is stored as &#128512; (9 characters): 28 fit in 255, and none is cut in half.
        Assert.Equal(string.Concat(Enumerable.Repeat("&#128512;", 28)), stored);
        Assert.True(PhpbbColumnText.StoredLength(stored) <= PhpbbColumnText.ColumnMaxCharacters);
        Assert.Equal(28, PhpbbColumnText.DisplayedLength(stored));
    }

    [Fact]
    public void A_long_subject_is_cut_to_120_characters_as_displayed_counting_an_entity_as_one()
    {
        Assert.Equal(new string('é', 120), PhpbbColumnText.Subject(new string('é', 200)));

        var stored = PhpbbColumnText.Subject("&" + new string('x', 150));
        Assert.Equal("&amp;" + new string('x', 119), stored);
        Assert.Equal(120, PhpbbColumnText.DisplayedLength(stored));
        Assert.Equal(124, PhpbbColumnText.StoredLength(stored));

        // Where escaping makes it longer, the stored limit cuts first (phpBB's max_store_length).
        var escaped = PhpbbColumnText.Subject(string.Concat(Enumerable.Repeat("a&b", 60)));
        Assert.Equal(string.Concat(Enumerable.Repeat("a&amp;b", 36)) + "a", escaped);
        Assert.Equal(253, PhpbbColumnText.StoredLength(escaped));
    }

    [Fact]
    public void A_cut_never_splits_a_grapheme_cluster()
    {
        // 119 letters, then a letter with a combining accent (2 code points): it does not fit in 120, so it goes whole.
        var subject = new string('x', 119) + "q\u0303" + "tail";
        Assert.Equal(new string('x', 119), PhpbbColumnText.Subject(subject));

        // A family emoji is one grapheme of 5 code points joined by ZWJs: kept whole or not at all.
        var family = "👨‍👩‍👧";
        var withFamily = new string('y', 117) + family;
        Assert.Equal(new string('y', 117), PhpbbColumnText.Subject(withFamily));
        Assert.Equal(new string('y', 100) + PhpbbColumnText.EncodeSupplementary(family), PhpbbColumnText.Subject(new string('y', 100) + family));
    }

    [Fact]
    public void Names_and_plain_values_are_cut_only_to_what_the_column_holds()
    {
        Assert.Equal(255, PhpbbColumnText.StoredLength(PhpbbColumnText.Name(new string('n', 300))));
        Assert.Equal("a&amp;b &#128512;", PhpbbColumnText.Name("a&b 😀"));
        Assert.Equal("a&b &#128512;", PhpbbColumnText.Plain("a&b 😀", 64));
        Assert.Equal("ab", PhpbbColumnText.Plain("ab😀", 10));
    }
}
