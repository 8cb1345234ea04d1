namespace AtSync.Core.Forum.Text;

/// <summary>What a <see cref="TextTag"/> is in s9e TextFormatter's tag stream (its Parser\Tag types).</summary>
internal enum TextTagType
{
    Start,
    End,
    SelfClosing,

    /// <summary>Text kept but marked as ignored: <c>&lt;i&gt;…&lt;/i&gt;</c>.</summary>
    Ignore,

    /// <summary>Text output as is, protecting it from other tags (a magic link's content).</summary>
    Verbatim,
}

/// <summary>
/// One tag found in the text: a BBCode, a magic link boundary or a system tag, with its position and length in the
/// text (UTF-16 units). Mirrors s9e TextFormatter's <c>Parser\Tag</c>: pairing, invalidation cascades, priorities.
/// </summary>
internal sealed class TextTag(TextTagType type, string name, int pos, int len, int prio, int index)
{
    private List<TextTag>? _cascade;

    public TextTagType Type { get; } = type;
    public string Name { get; } = name;
    public int Pos { get; } = pos;
    public int Len { get; } = len;
    public int Prio { get; } = prio;

    /// <summary>Creation order, the last tie-breaker when sorting.</summary>
    public int Index { get; } = index;

    public SortedDictionary<string, string> Attributes { get; private set; } = new(StringComparer.Ordinal);
    public TextTag? StartTag { get; private set; }
    public TextTag? EndTag { get; private set; }
    public bool IsInvalid { get; private set; }
    public TagDefinition? Definition { get; init; }

    /// <summary>The attributes went through the definition's filters (a reprocessed or copied tag is not filtered twice).</summary>
    public bool IsFiltered { get; set; }

    public bool IsStartTag => Type is TextTagType.Start or TextTagType.SelfClosing;
    public bool IsSystemTag => Type is TextTagType.Ignore or TextTagType.Verbatim;

    public void SetAttributes(IEnumerable<KeyValuePair<string, string>> attributes) =>
        Attributes = new SortedDictionary<string, string>(attributes.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal), StringComparer.Ordinal);

    /// <summary>Pairs a start tag with an end tag, whichever of the two this is (as s9e's <c>Tag::pairWith</c>).</summary>
    public void PairWith(TextTag other)
    {
        var (start, end) = Type == TextTagType.End ? (other, this) : (this, other);
        start.EndTag = end;
        end.StartTag = start;
    }

    public void CascadeInvalidationTo(TextTag other) => (_cascade ??= []).Add(other);

    public void Invalidate()
    {
        if (IsInvalid) return;
        IsInvalid = true;
        if (_cascade is null) return;
        foreach (var tag in _cascade) tag.Invalidate();
    }

    /// <summary>s9e's <c>Tag::canClose</c>: an end tag closes the start tag it is paired with, or any unpaired one of its name.</summary>
    public bool CanClose(TextTag start) =>
        !IsInvalid && Type == TextTagType.End && start.Type == TextTagType.Start && Name == start.Name
        && (StartTag is null || StartTag == start) && (start.EndTag is null || start.EndTag == this);

    /// <summary>
    /// s9e's sort key (<c>Parser::getSortKey</c>): position, then priority, then zero-width before wide, zero-width
    /// end before self-closing before start, wider first, then creation order.
    /// </summary>
    public static int Compare(TextTag a, TextTag b)
    {
        var c = ComparePosition(a, b);
        return c != 0 ? c : a.Index.CompareTo(b.Index);
    }

    /// <summary>
    /// <see cref="Compare"/> without creation order: a tag added while processing goes before the equal ones already
    /// waiting (s9e's <c>insertTag</c>), so the last magic end tag added is the first processed.
    /// </summary>
    public static int ComparePosition(TextTag a, TextTag b)
    {
        var c = a.Pos.CompareTo(b.Pos);
        if (c != 0) return c;
        c = a.Prio.CompareTo(b.Prio);
        if (c != 0) return c;
        c = (a.Len > 0).CompareTo(b.Len > 0);
        if (c != 0) return c;
        return a.Len > 0 ? b.Len.CompareTo(a.Len) : ZeroWidthOrder(a).CompareTo(ZeroWidthOrder(b));
    }

    private static int ZeroWidthOrder(TextTag tag) => tag.Type switch
    {
        TextTagType.End => 0,
        TextTagType.Start => 2,
        _ => 1,
    };
}
