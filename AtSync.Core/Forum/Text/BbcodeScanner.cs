using System.Text.RegularExpressions;

namespace AtSync.Core.Forum.Text;

/// <summary>
/// Finds BBCode tags in the text the way s9e TextFormatter's BBCodes plugin does (src/Plugins/BBCodes/Parser.php):
/// <c>[name attr=value …]</c>, <c>[name="quoted \" value"]</c>, <c>[/name]</c>, <c>[name/]</c>; tags whose attribute
/// comes from their content (<c>[url]…[/url]</c>) look ahead for the end tag. Unknown names stay text.
/// </summary>
internal sealed partial class BbcodeScanner(string text, PhpbbXmlBuilder builder)
{
    /// <summary>
    /// Longest attribute value (typed or taken from the content) a tag may have; a longer one leaves the tag as text.
    /// phpBB has no such bound; without it a text of unterminated tags copies its rest once per tag.
    /// </summary>
    public const int MaxAttributeLength = 8192;

    private readonly Dictionary<string, (int SearchedFrom, int FoundAt)> _endTags = new(StringComparer.Ordinal);
    private string? _upper;
    private (int From, int End) _lastUnquoted = (-1, -1);
    private readonly Dictionary<char, (int SearchedFrom, int FoundAt)> _nextQuote = [];
    private int _pos;

    public void Scan()
    {
        foreach (Match m in TagOpening().Matches(text))
        {
            var bbcodeName = m.Groups[1].Value.ToUpperInvariant(); // the name is ASCII
            if (PhpbbBbcodes.Find(bbcodeName) is not { } definition) continue;
            _pos = m.Index + m.Length;
            ScanTag(m.Index, bbcodeName, definition);
        }
    }

    private void ScanTag(int start, string bbcodeName, TagDefinition definition)
    {
        var suffix = "";
        if (_pos < text.Length && text[_pos] == ':')
        {
            var end = _pos + 1;
            while (end < text.Length && char.IsAsciiDigit(text[end])) end++;
            suffix = text[_pos..end];
            _pos = end;
        }

        if (text[start + 1] == '/')
        {
            // End tags with a suffix are added by their start tag.
            if (_pos < text.Length && text[_pos] == ']' && suffix.Length == 0)
            {
                builder.AddEndTag(definition, start, _pos + 1 - start);
            }
            return;
        }

        if (ParseAttributes(definition) is not { } attributes) return;
        if (_pos < text.Length && text[_pos] == ']')
        {
            _pos++;
        }
        else
        {
            if (string.CompareOrdinal(text, _pos, "/]", 0, 2) == 0)
            {
                _pos += 2;
                builder.AddSelfClosingTag(definition, start, _pos - start).SetAttributes(attributes);
            }
            return;
        }

        var needsContent = definition.ContentAttribute is { } contentName && !attributes.ContainsKey(contentName);
        var requireEndTag = suffix.Length > 0 || definition.ForceLookahead;
        TextTag? endTag = null;
        if (requireEndTag || needsContent)
        {
            endTag = CaptureEndTag(bbcodeName + suffix, definition);
            if (endTag is not null && needsContent)
            {
                if (endTag.Pos - _pos > MaxAttributeLength) return;
                attributes[definition.ContentAttribute!] = text[_pos..endTag.Pos];
            }
            else if (endTag is null && requireEndTag)
            {
                return;
            }
        }

        var tag = builder.AddStartTag(definition, start, _pos - start, suffix.Length > 0 ? -10 : 0);
        tag.SetAttributes(attributes);
        if (endTag is not null) tag.PairWith(endTag);
    }

    private TextTag? CaptureEndTag(string name, TagDefinition definition)
    {
        _upper ??= string.Create(text.Length, text, static (span, source) =>
        {
            for (var i = 0; i < span.Length; i++) span[i] = char.IsAsciiLetterLower(source[i]) ? (char)(source[i] - 32) : source[i];
        });
        var match = "[/" + name + "]";
        // Remembered per name, so a run of start tags searches the rest of the text once, not once each.
        int at;
        if (_endTags.TryGetValue(match, out var known) && known.SearchedFrom <= _pos && (known.FoundAt < 0 || known.FoundAt >= _pos))
        {
            at = known.FoundAt;
        }
        else
        {
            at = _upper.IndexOf(match, _pos, StringComparison.Ordinal);
            _endTags[match] = (_pos, at);
        }
        return at < 0 ? null : builder.AddEndTag(definition, at, match.Length);
    }

    /// <summary>Attributes up to <c>]</c> or <c>/]</c>; null when the tag never closes (then it is text).</summary>
    private Dictionary<string, string>? ParseAttributes(TagDefinition definition)
    {
        var first = _pos;
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        while (_pos < text.Length)
        {
            var c = text[_pos];
            if (c is ' ' or '\n' or '\t')
            {
                _pos++;
                continue;
            }
            if (c is '/' or ']') return attributes;

            string name;
            var span = 0;
            while (_pos + span < text.Length && IsNameChar(text[_pos + span])) span++;
            if (span > 0)
            {
                name = text.Substring(_pos, span).ToLowerInvariant();
                _pos += span;
                if (_pos >= text.Length) return null;
                if (text[_pos] != '=') continue;
            }
            else if (c == '=' && _pos == first)
            {
                name = definition.DefaultAttribute ?? definition.Name.ToLowerInvariant();
            }
            else
            {
                return null;
            }

            if (++_pos >= text.Length) return null;
            if (ParseValue() is not { } value) return null;
            attributes[name] = value;
        }
        return null;
    }

    private string? ParseValue()
    {
        var quote = text[_pos];
        if (quote is '"' or '\'')
        {
            var valueStart = _pos + 1;
            int backslashes;
            do
            {
                _pos = NextIndexOf(quote, _pos + 1);
                if (_pos < 0) return null;
                backslashes = 1;
                while (text[_pos - backslashes] == '\\') backslashes++;
            }
            while (backslashes % 2 == 0);
            if (_pos - valueStart > MaxAttributeLength) return null;
            var value = text[valueStart.._pos];
            _pos++;
            return value.Contains('\\')
                ? value.Replace("\\\\", "\u0000", StringComparison.Ordinal).Replace("\\\"", "\"", StringComparison.Ordinal)
                    .Replace("\\'", "'", StringComparison.Ordinal).Replace('\u0000', '\\')
                : value;
        }
        var start = _pos;
        // A scan from inside an earlier value walks the same path to the same end: reuse it, so a text of unterminated
        // tags costs one pass, not one pass per tag.
        _pos = start >= _lastUnquoted.From && start < _lastUnquoted.End ? _lastUnquoted.End : UnquotedValueEnd(start);
        _lastUnquoted = (start, _pos);
        return _pos - start > MaxAttributeLength ? null : text[start.._pos];
    }

    /// <summary>
    /// Where an unquoted value ends: at a line break or <c>]</c>, or at spaces followed by <c>/]</c>, <c>]</c> or
    /// another <c>name=</c> (s9e's <c>((?:[^\s\]]|[ \t](?!\s*(?:[-\w]+=|/?\])))*)</c>, evaluated once per run of
    /// spaces so a long run stays linear).
    /// </summary>
    private int UnquotedValueEnd(int i)
    {
        while (i < text.Length)
        {
            var c = text[i];
            if (c is ' ' or '\t')
            {
                var next = i;
                while (next < text.Length && IsWhitespace(text[next])) next++;
                if (next < text.Length && (text[next] == ']' || string.CompareOrdinal(text, next, "/]", 0, 2) == 0 || IsNameEquals(next))) return i;
                while (i < text.Length && text[i] is ' ' or '\t') i++;
                continue;
            }
            if (c == ']' || IsWhitespace(c)) return i;
            i++;
        }
        return i;
    }

    /// <summary>The next <paramref name="c"/> at or after <paramref name="from"/>, remembered so unterminated quotes are searched once.</summary>
    private int NextIndexOf(char c, int from)
    {
        if (_nextQuote.TryGetValue(c, out var known) && known.SearchedFrom <= from && (known.FoundAt < 0 || known.FoundAt >= from))
        {
            return known.FoundAt;
        }
        var at = text.IndexOf(c, from);
        _nextQuote[c] = (from, at);
        return at;
    }

    private bool IsNameEquals(int i)
    {
        var start = i;
        while (i < text.Length && IsNameChar(text[i])) i++;
        return i > start && i < text.Length && text[i] == '=';
    }

    private static bool IsWhitespace(char c) => c is ' ' or '\t' or '\n' or '\r' or '\f' or '\v';

    private static bool IsNameChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or '-';

    [GeneratedRegex(@"\[/?(\*|[-A-Za-z0-9_]+)(?=[\] \t\n\r\f\v=:/])")]
    private static partial Regex TagOpening();

}
