using System.Text;
using System.Text.RegularExpressions;

namespace AtSync.Core.Forum.Text;

internal sealed partial class PhpbbXmlBuilder
{
    private readonly StringBuilder _output = new();
    private int _pos;
    private int _wsPos;
    private bool _isRich;

    /// <summary>
    /// s9e's <c>outputTag</c>: the tag with its attributes in lexical order, its original markup in <c>&lt;s&gt;</c> /
    /// <c>&lt;e&gt;</c>; around a block, one line break before and after a start tag (two after an end tag) is kept as
    /// a plain newline instead of <c>&lt;br/&gt;</c>.
    /// </summary>
    private void OutputTag(TextTag tag)
    {
        _isRich = true;
        var ignoreWhitespace = tag.Definition?.Rules.HasFlag(TagRules.IgnoreWhitespace) == true;
        var skipBefore = ignoreWhitespace ? 1 : 0;
        var skipAfter = ignoreWhitespace ? (tag.Type == TextTagType.End ? 2 : 1) : 0;

        OutputText(tag.Pos, skipBefore);
        var tagText = tag.Len > 0 ? EscapeText(_text.AsSpan(tag.Pos, tag.Len)) : "";
        if (tag.IsStartTag)
        {
            _output.Append('<').Append(tag.Name);
            foreach (var (name, value) in tag.Attributes)
            {
                _output.Append(' ').Append(name).Append("=\"").Append(EscapeAttribute(value)).Append('"');
            }
            if (tag.Type == TextTagType.SelfClosing)
            {
                if (tag.Len > 0) _output.Append('>').Append(tagText).Append("</").Append(tag.Name).Append('>');
                else _output.Append("/>");
            }
            else if (tag.Len > 0)
            {
                _output.Append("><s>").Append(tagText).Append("</s>");
            }
            else
            {
                _output.Append('>');
            }
        }
        else
        {
            if (tag.Len > 0) _output.Append("<e>").Append(tagText).Append("</e>");
            _output.Append("</").Append(tag.Name).Append('>');
        }

        _pos = tag.Pos + tag.Len;
        _wsPos = _pos;
        while (skipAfter > 0 && _wsPos < _text.Length && _text[_wsPos] == '\n')
        {
            skipAfter--;
            _wsPos++;
        }
    }

    /// <summary>s9e's <c>outputText</c> (without paragraphs, which phpBB does not use): escaped text, newlines as <c>&lt;br/&gt;</c> where line breaks are automatic.</summary>
    private void OutputText(int catchupPos, int maxLines)
    {
        if (_pos >= catchupPos) return;
        if (_wsPos > _pos)
        {
            var skipPos = Math.Min(catchupPos, _wsPos);
            _output.Append(_text, _pos, skipPos - _pos);
            _pos = skipPos;
            if (_pos >= catchupPos) return;
        }

        var ignorePos = catchupPos;
        var ignoreLen = 0;
        while (maxLines != 0 && --ignorePos >= _pos)
        {
            var c = _text[ignorePos];
            if (c is not (' ' or '\n' or '\t')) break;
            if (c == '\n') maxLines--;
            ignoreLen++;
        }
        catchupPos -= ignoreLen;

        if (catchupPos > _pos)
        {
            var text = EscapeText(_text.AsSpan(_pos, catchupPos - _pos));
            _output.Append(CurrentContext.AutoBr ? text.Replace("\n", "<br/>\n", StringComparison.Ordinal) : text);
        }
        if (ignoreLen > 0) _output.Append(_text, catchupPos, ignoreLen);
        _pos = catchupPos + ignoreLen;
    }

    private void OutputIgnoreTag(TextTag tag)
    {
        OutputText(tag.Pos, 0);
        _output.Append("<i>").Append(EscapeText(_text.AsSpan(tag.Pos, tag.Len))).Append("</i>");
        _isRich = true;
        _pos = tag.Pos + tag.Len;
    }

    /// <summary>A verbatim span (a magic link's text) is output as text with no line-break conversion.</summary>
    private void OutputVerbatim(TextTag tag)
    {
        _contexts.Push(CurrentContext with { AutoBr = false });
        OutputText(tag.Pos + tag.Len, 0);
        _contexts.Pop();
    }

    private string FinalizeOutput()
    {
        OutputText(_text.Length, 0);
        var output = _output.ToString();
        // Empty pairs left by reopened or auto-created tags (<I></I>, <LI></LI>) go, as in s9e's finalizeOutput.
        string previous;
        do
        {
            previous = output;
            output = EmptyPair().Replace(output, "");
        }
        while (!ReferenceEquals(previous, output) && previous.Length != output.Length);
        output = output.Replace("</i><i>", "", StringComparison.Ordinal);
        return _isRich ? "<r>" + output + "</r>" : "<t>" + output + "</t>";
    }

    /// <summary>PHP's <c>htmlspecialchars($text, ENT_NOQUOTES)</c>: <c>&amp; &lt; &gt;</c>.</summary>
    internal static string EscapeText(ReadOnlySpan<char> text)
    {
        if (text.IndexOfAny('&', '<', '>') < 0) return text.ToString();
        var builder = new StringBuilder(text.Length + 16);
        foreach (var c in text)
        {
            builder.Append(c switch
            {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                _ => null,
            });
            if (c is not ('&' or '<' or '>')) builder.Append(c);
        }
        return builder.ToString();
    }

    /// <summary>PHP's <c>htmlspecialchars($value, ENT_COMPAT)</c> with newlines as <c>&amp;#10;</c>, as s9e writes attributes.</summary>
    internal static string EscapeAttribute(string value) =>
        EscapeText(value).Replace("\"", "&quot;", StringComparison.Ordinal).Replace("\n", "&#10;", StringComparison.Ordinal);

    [GeneratedRegex(@"<([^ />]+)[^>]*></\1>")]
    private static partial Regex EmptyPair();
}
