namespace AtSync.Core.Forum.Text;

/// <summary>
/// The tag processing of s9e TextFormatter's parser (src/Parser.php, the version phpBB 3.3 ships), for phpBB's
/// default BBCodes: tags are taken in text order; an end tag closes its start tag and everything opened after it
/// (bold and italic reopen after it); a block closes an open bold/italic/link and reopens it inside; a tag where it may
/// not stand, an end tag without a start, a start tag over a limit stay text; what is still open at the end is closed.
/// The output is phpBB's stored form: every tag keeps its original markup in <c>&lt;s&gt;</c>/<c>&lt;e&gt;</c>.
/// </summary>
internal sealed partial class PhpbbXmlBuilder
{
    private const int MaxFixingCost = 10_000;

    private readonly string _text;
    private readonly List<TextTag> _queue = [];
    private readonly List<TextTag> _openTags = [];
    private readonly Stack<Context> _contexts = new();
    private readonly Dictionary<string, int> _cntOpen = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _cntTotal = new(StringComparer.Ordinal);
    private bool _queueSorted;
    private int _nextIndex;
    private int _fixingCost;
    private TextTag? _currentTag;

    public PhpbbXmlBuilder(string text)
    {
        _text = text;
        _contexts.Push(new Context(AutoBr: true, IgnoreTags: false));
    }

    private Context CurrentContext => _contexts.Peek();

    public TextTag AddStartTag(TagDefinition definition, int pos, int len, int prio = 0) =>
        AddTag(TextTagType.Start, definition, pos, len, prio);

    public TextTag AddEndTag(TagDefinition definition, int pos, int len, int prio = 0) =>
        AddTag(TextTagType.End, definition, pos, len, prio);

    public TextTag AddSelfClosingTag(TagDefinition definition, int pos, int len, int prio = 0) =>
        AddTag(TextTagType.SelfClosing, definition, pos, len, prio);

    public TextTag AddVerbatim(int pos, int len, int prio) => AddTag(TextTagType.Verbatim, null, pos, len, prio);

    private TextTag AddIgnoreTag(int pos, int len) => AddTag(TextTagType.Ignore, null, pos, len, 0);

    private TextTag AddCopyTag(TextTag tag, int pos, int len, int? prio = null)
    {
        var copy = AddTag(tag.Type, tag.Definition, pos, len, prio ?? tag.Prio);
        copy.SetAttributes(tag.Attributes);
        copy.IsFiltered = true;
        return copy;
    }

    private TextTag AddTag(TextTagType type, TagDefinition? definition, int pos, int len, int prio)
    {
        var name = definition?.Name ?? (type == TextTagType.Ignore ? "i" : "v");
        var tag = new TextTag(type, name, pos, len, prio, _nextIndex++) { Definition = definition };
        if (len < 0 || pos < 0 || pos + len > _text.Length || SplitsSurrogatePair(pos) || SplitsSurrogatePair(pos + len))
        {
            tag.Invalidate();
            return tag;
        }
        if (!_queueSorted)
        {
            _queue.Add(tag);
            return tag;
        }
        // The queue is sorted last-first (the next tag is at the end): insert before every tag that sorts after it.
        var i = _queue.Count;
        while (i > 0 && TextTag.ComparePosition(tag, _queue[i - 1]) > 0) i--;
        _queue.Insert(i, tag);
        return tag;
    }

    private bool SplitsSurrogatePair(int at) => at > 0 && at < _text.Length && char.IsLowSurrogate(_text[at]) && char.IsHighSurrogate(_text[at - 1]);

    /// <summary>Processes every tag and returns the stored XML.</summary>
    public string Build()
    {
        do
        {
            while (_queue.Count > 0)
            {
                if (!_queueSorted)
                {
                    _queue.Sort((a, b) => TextTag.Compare(b, a));
                    _queueSorted = true;
                }
                _currentTag = _queue[^1];
                _queue.RemoveAt(_queue.Count - 1);
                ProcessCurrentTag();
            }
            foreach (var start in _openTags) AddMagicEndTag(start, _text.Length);
        }
        while (_queue.Count > 0);
        return FinalizeOutput();
    }

    private void ProcessCurrentTag()
    {
        var tag = _currentTag!;
        if (CurrentContext.IgnoreTags && !tag.IsSystemTag && (_openTags.Count == 0 || !tag.CanClose(_openTags[^1])))
        {
            tag.Invalidate();
        }

        if (_pos > tag.Pos && !tag.IsInvalid)
        {
            if (tag.StartTag is { } start && _openTags.Contains(start))
            {
                AddEndTag(start.Definition!, _pos, Math.Max(0, tag.Pos + tag.Len - _pos)).PairWith(start);
                return;
            }
            if (tag.Type == TextTagType.Ignore && tag.Pos + tag.Len - _pos > 0)
            {
                AddIgnoreTag(_pos, tag.Pos + tag.Len - _pos);
                return;
            }
            tag.Invalidate();
        }
        if (tag.IsInvalid) return;

        switch (tag.Type)
        {
            case TextTagType.Ignore:
                OutputIgnoreTag(tag);
                break;
            case TextTagType.Verbatim:
                OutputVerbatim(tag);
                break;
            case TextTagType.End:
                ProcessEndTag(tag);
                break;
            default:
                ProcessStartTag(tag);
                break;
        }
    }

    private void ProcessStartTag(TextTag tag)
    {
        var definition = tag.Definition!;
        if (Count(_cntTotal, tag.Name) >= PhpbbBbcodes.TagLimit)
        {
            tag.Invalidate();
            return;
        }
        if (!tag.IsFiltered && IsDeniedWhereverFixed(definition))
        {
            // Filtering first would give the same verdict, but a URL filter over a long content per denied tag is
            // quadratic on a text of nested [url]s.
            tag.Invalidate();
            return;
        }
        if (!tag.IsFiltered)
        {
            tag.IsFiltered = true;
            if (definition.FilterAttributes(tag.Attributes) is not { } filtered)
            {
                tag.Invalidate();
                return;
            }
            tag.SetAttributes(filtered);
            if (definition.Name == "URL") AddLinkText(tag);
        }

        if (_fixingCost < MaxFixingCost && (FosterParent(tag) || CloseParent(tag))) return;

        if (Count(_cntOpen, tag.Name) >= definition.NestingLimit || !IsAllowed(definition))
        {
            tag.Invalidate();
            return;
        }

        if (definition.Rules.HasFlag(TagRules.TrimFirstLine) && tag.Pos + tag.Len < _text.Length && _text[tag.Pos + tag.Len] == '\n')
        {
            AddIgnoreTag(tag.Pos + tag.Len, 1);
        }

        OutputTag(tag);
        PushContext(tag);

        if (definition.Kind == TagKind.List)
        {
            // createChild: an item opens right after [list] (after whitespace), so text before the first [*] is an item.
            var at = _pos;
            while (at < _text.Length && _text[at] is ' ' or '\n' or '\r' or '\t') at++;
            AddStartTag(PhpbbBbcodes.Find("*")!, at, 0, -999);
        }
    }

    /// <summary>
    /// phpBB's link_helper: the text of a magic link or of <c>[url]…[/url]</c> longer than 55 characters is shown as
    /// its first 39 and last 10 characters (<c>LINK_TEXT</c>), the URL itself unchanged.
    /// </summary>
    private void AddLinkText(TextTag tag)
    {
        if (tag.EndTag is not { } end) return;
        if (tag.Len != 0 && !_text.AsSpan(tag.Pos, tag.Len).Equals("[url]", StringComparison.OrdinalIgnoreCase)) return;
        var start = tag.Pos + tag.Len;
        if (end.Pos <= start) return;
        var content = _text[start..end.Pos];
        var codePoints = content.EnumerateRunes().Count();
        if (codePoints <= 55) return;
        var runes = content.EnumerateRunes().ToArray();
        var shown = string.Concat(runes.Take(39).Select(r => r.ToString())) + " ... " + string.Concat(runes.Skip(codePoints - 10).Select(r => r.ToString()));
        var linkText = AddSelfClosingTag(PhpbbBbcodes.LinkText, start, content.Length, 10);
        linkText.SetAttributes([new("text", shown)]);
        linkText.IsFiltered = true;
        tag.CascadeInvalidationTo(linkText);
    }

    /// <summary>What phpBB's templates allow at this place (s9e derives it from HTML content models).</summary>
    private bool IsAllowed(TagDefinition child)
    {
        if (_openTags.Count == 0) return child.Kind != TagKind.ListItem;
        var parent = _openTags[^1].Definition!;
        switch (parent.Kind)
        {
            case TagKind.Code:
                return false;
            case TagKind.List:
                return child.Kind == TagKind.ListItem;
            case TagKind.Image when child.Name is not ("URL" or "LINK_TEXT"):
                return false;
        }
        if (child.Kind == TagKind.ListItem && parent.Kind != TagKind.List) return false;
        foreach (var open in _openTags)
        {
            var kind = open.Definition!.Kind;
            if (child.IsBlock && kind is TagKind.Span or TagKind.Image or TagKind.Formatting) return false;
            if (child.IsLink && open.Definition.IsLink) return false;
        }
        return true;
    }

    /// <summary>Denied here whatever fostering or closing would do: a link inside a link, anything in code, a non-item in a list.</summary>
    private bool IsDeniedWhereverFixed(TagDefinition child)
    {
        if (_openTags.Count == 0) return false;
        var parentKind = _openTags[^1].Definition!.Kind;
        if (parentKind == TagKind.Code || (parentKind == TagKind.List && child.Kind != TagKind.ListItem)) return true;
        return child.IsLink && _openTags.Exists(open => open.Definition!.IsLink);
    }

    /// <summary>A block inside bold/italic/link: close it before the block and reopen it inside (s9e's fosterParent).</summary>
    private bool FosterParent(TextTag tag)
    {
        if (_openTags.Count == 0 || !tag.Definition!.IsBlock) return false;
        var parent = _openTags[^1];
        if (parent.Definition!.Kind != TagKind.Formatting) return false;
        if (parent.Name != tag.Name && _fixingCost < MaxFixingCost)
        {
            var (childPos, childPrio) = MagicStartCoords(tag.Pos + tag.Len);
            tag.CascadeInvalidationTo(AddCopyTag(parent, childPos, 0, childPrio));
        }
        _ = AddTagBack(tag);
        AddMagicEndTag(parent, tag.Pos, tag.Prio - 1);
        _fixingCost += 4;
        return true;
    }

    /// <summary>A list item closes the open item before it (s9e's closeParent, from HTML's optional end tags).</summary>
    private bool CloseParent(TextTag tag)
    {
        if (_openTags.Count == 0 || tag.Definition!.Kind != TagKind.ListItem || _openTags[^1].Definition!.Kind != TagKind.ListItem) return false;
        _fixingCost++;
        _ = AddTagBack(tag);
        AddMagicEndTag(_openTags[^1], tag.Pos, tag.Prio - 1);
        return true;
    }

    private TextTag AddTagBack(TextTag tag)
    {
        var i = _queue.Count;
        while (i > 0 && TextTag.ComparePosition(tag, _queue[i - 1]) > 0) i--;
        _queue.Insert(i, tag);
        return tag;
    }

    private void AddMagicEndTag(TextTag start, int tagPos, int prio = 0)
    {
        if (((_currentTag?.Definition?.Rules ?? TagRules.None) | start.Definition!.Rules).HasFlag(TagRules.IgnoreWhitespace))
        {
            tagPos = MagicEndPos(tagPos);
        }
        AddEndTag(start.Definition, tagPos, 0, prio).PairWith(start);
    }

    private int MagicEndPos(int tagPos)
    {
        while (tagPos > _pos && _text[tagPos - 1] is ' ' or '\n' or '\t') tagPos--;
        return tagPos;
    }

    private (int Pos, int Prio) MagicStartCoords(int tagPos)
    {
        var (nextPos, nextPrio) = _queue.Count == 0 ? (_text.Length + 1, 0) : (_queue[^1].Pos, _queue[^1].Prio);
        while (tagPos < nextPos && tagPos < _text.Length && _text[tagPos] is ' ' or '\n' or '\t') tagPos++;
        return (tagPos, tagPos == nextPos ? nextPrio - 1 : 0);
    }

    private void PushContext(TextTag tag)
    {
        Increment(_cntTotal, tag.Name);
        if (tag.Type == TextTagType.SelfClosing) return;
        var rules = tag.Definition!.Rules;
        _openTags.Add(tag);
        Increment(_cntOpen, tag.Name);
        _contexts.Push(new Context(
            AutoBr: CurrentContext.AutoBr && !rules.HasFlag(TagRules.DisableAutoBr),
            IgnoreTags: rules.HasFlag(TagRules.IgnoreTags)));
    }

    private void PopContext()
    {
        var tag = _openTags[^1];
        _openTags.RemoveAt(_openTags.Count - 1);
        _cntOpen[tag.Name]--;
        _contexts.Pop();
    }

    private static int Count(Dictionary<string, int> counts, string name) => counts.GetValueOrDefault(name);

    private static void Increment(Dictionary<string, int> counts, string name) => counts[name] = counts.GetValueOrDefault(name) + 1;

    private readonly record struct Context(bool AutoBr, bool IgnoreTags);
}
