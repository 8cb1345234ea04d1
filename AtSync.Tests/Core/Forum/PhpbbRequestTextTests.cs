using AtSync.Core.Forum.Text;

namespace AtSync.Tests.Core.Forum;

public sealed class PhpbbRequestTextTests
{
    [Theory]
    // htmlspecialchars(ENT_COMPAT): & < > " escaped, ' kept (phpBB/phpbb/request/type_cast_helper.php).
    [InlineData("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;")]
    [InlineData("Tom & \"Jerry\" 'n' co", "Tom &amp; &quot;Jerry&quot; 'n' co")]
    [InlineData("&amp; already", "&amp;amp; already")]
    // trimmed, NUL and U+FEFF removed, control characters out, line breaks and tabs as spaces.
    [InlineData("  padded\t", "padded")]
    [InlineData("a\u0000b\uFEFFc", "abc")]
    [InlineData("one\ntwo\r\nthree\tfour", "one two  three four")]
    [InlineData("esc\u001B[31mred", "esc[31mred")]
    [InlineData("bell\u0007 del\u007F c1\u0085", "bell del c1")]
    [InlineData("nonchar\uFFFE\uFFFF pair\uD83D\uDE00", "nonchar pair\uD83D\uDE00")]
    public void Single_line_fields_are_stored_as_phpbbs_request_layer_would(string raw, string stored) =>
        Assert.Equal(stored, PhpbbRequestText.SingleLine(raw));

    [Fact]
    public void Unpaired_surrogates_are_dropped() =>
        Assert.Equal("lone  low pair\uD83D\uDE00", PhpbbRequestText.SingleLine("lone\uD800  low\uDC00 pair\uD83D\uDE00"));

    [Theory]
    [InlineData("abc&quot;def", 6, "abc")]
    [InlineData("abc&quot;def", 9, "abc&quot;")]
    [InlineData("ab\uD83D\uDE00", 3, "ab")]
    [InlineData("short", 255, "short")]
    public void Cutting_an_escaped_value_never_splits_an_entity_or_a_pair(string escaped, int max, string expected) =>
        Assert.Equal(expected, PhpbbRequestText.CutEscaped(escaped, max));

    [Fact]
    public void Lexicon_limits_count_utf8_bytes_and_graphemes()
    {
        Assert.Equal(LexiconLength.TooManyGraphemes, LexiconLimits.Check(new string('a', 255), LexiconLimits.PostSubject));
        Assert.Equal(LexiconLength.Within, LexiconLimits.Check(new string('a', 100), LexiconLimits.PostSubject));
        Assert.Equal(LexiconLength.TooManyGraphemes, LexiconLimits.Check(new string('a', 101), LexiconLimits.PostSubject));
        // 85 × "é" as e + combining acute: 170 UTF-16 units, 255 bytes, 85 graphemes: within.
        Assert.Equal(LexiconLength.Within, LexiconLimits.Check(string.Concat(Enumerable.Repeat("e\u0301", 85)), LexiconLimits.PostSubject));
        // 64 emoji: 256 bytes, 64 graphemes: too many bytes.
        Assert.Equal(LexiconLength.TooManyBytes, LexiconLimits.Check(string.Concat(Enumerable.Repeat("\uD83D\uDE00", 64)), LexiconLimits.PostSubject));
        Assert.Equal(LexiconLength.TooManyBytes, LexiconLimits.Check(new string('x', 100_001), LexiconLimits.PostText));
        Assert.Equal(LexiconLength.TooManyBytes, LexiconLimits.Check(new string('\u00e9', 50_001), LexiconLimits.PostText));
        Assert.Equal(LexiconLength.TooManyGraphemes, LexiconLimits.Check(new string('x', 50_001), LexiconLimits.PostText));
        Assert.Equal(LexiconLength.Within, LexiconLimits.Check(new string('x', 50_000), LexiconLimits.PostText));
    }
}
