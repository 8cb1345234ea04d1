namespace AtSync.Core.Forum.Text;

internal sealed partial class PhpbbXmlBuilder
{
    /// <summary>
    /// s9e's <c>processEndTag</c>: closes the matching open tag and every tag opened after it; bold and italic closed
    /// that way reopen right after, unless an end tag waiting at the same place would close them anyway (that end tag
    /// is then kept as ignored text).
    /// </summary>
    private void ProcessEndTag(TextTag tag)
    {
        if (Count(_cntOpen, tag.Name) == 0) return;

        var closeTags = new List<TextTag>();
        var i = _openTags.Count;
        while (--i >= 0)
        {
            var open = _openTags[i];
            if (tag.CanClose(open)) break;
            closeTags.Add(open);
            _fixingCost++;
        }
        if (i < 0) return;

        var rules = tag.Definition!.Rules;
        foreach (var open in closeTags) rules |= open.Definition!.Rules;
        var ignoreWhitespace = rules.HasFlag(TagRules.IgnoreWhitespace);

        var keepReopening = _fixingCost < MaxFixingCost;
        var reopenTags = new List<TextTag>();
        foreach (var open in closeTags)
        {
            if (keepReopening)
            {
                if (open.Definition!.Rules.HasFlag(TagRules.AutoReopen)) reopenTags.Add(open);
                else keepReopening = false;
            }
            var tagPos = ignoreWhitespace ? MagicEndPos(tag.Pos) : tag.Pos;
            var endTag = new TextTag(TextTagType.End, open.Name, tagPos, 0, 0, _nextIndex++) { Definition = open.Definition };
            OutputTag(endTag);
            PopContext();
        }

        OutputTag(tag);
        PopContext();

        if (closeTags.Count > 0 && _fixingCost < MaxFixingCost)
        {
            var ignorePos = _pos;
            var k = _queue.Count;
            while (--k >= 0 && ++_fixingCost < MaxFixingCost)
            {
                var upcoming = _queue[k];
                if (upcoming.Pos > ignorePos || upcoming.IsStartTag) break;
                var j = closeTags.Count;
                while (--j >= 0 && ++_fixingCost < MaxFixingCost)
                {
                    if (!upcoming.CanClose(closeTags[j])) continue;
                    closeTags.RemoveAt(j);
                    if (j < reopenTags.Count) reopenTags.RemoveAt(j);
                    ignorePos = Math.Max(ignorePos, upcoming.Pos + upcoming.Len);
                    break;
                }
            }
            if (ignorePos > _pos)
            {
                OutputIgnoreTag(new TextTag(TextTagType.Ignore, "i", _pos, ignorePos - _pos, 0, _nextIndex++));
            }
        }

        foreach (var start in reopenTags)
        {
            var copy = AddCopyTag(start, _pos, 0);
            if (start.EndTag is { } end) copy.PairWith(end);
        }
    }
}
