namespace AtSync.Core.Forum.Text;

/// <summary>The s9e rule flags phpBB's default BBCodes end up with (s9e's <c>Parser::RULE_*</c>, as its rules generators set them for prosilver's templates).</summary>
[Flags]
internal enum TagRules
{
    None = 0,
    AutoReopen = 1,
    IgnoreWhitespace = 2,
    IgnoreTags = 4,
    DisableAutoBr = 8,
    TrimFirstLine = 16,
}

/// <summary>How a tag's HTML behaves, which decides what may nest in it (s9e derives this from the templates).</summary>
internal enum TagKind
{
    /// <summary><c>strong</c>, <c>em</c>, <c>a</c>: closed before a block starts and reopened inside it.</summary>
    Formatting,

    /// <summary><c>span</c>-like: phrasing content only; a block inside stays text.</summary>
    Span,

    /// <summary><c>blockquote</c>, <c>div</c>, <c>ul</c>: flow content, whitespace around them ignored.</summary>
    Block,

    /// <summary><c>ul</c>/<c>ol</c>: only list items.</summary>
    List,

    /// <summary><c>li</c>: only inside a list.</summary>
    ListItem,

    /// <summary><c>pre</c>: no tags, newlines kept as they are.</summary>
    Code,

    /// <summary><c>img</c>: only the magic link of its own URL.</summary>
    Image,
}

/// <summary>One BBCode as phpBB 3.3 defines it (phpBB/phpbb/textformatter/s9e/factory.php, <c>$default_definitions</c>).</summary>
internal sealed class TagDefinition
{
    public required string Name { get; init; }
    public required TagKind Kind { get; init; }
    public TagRules Rules { get; init; }
    public int NestingLimit { get; init; } = 10;

    /// <summary>The attribute <c>[name=value]</c> sets.</summary>
    public string? DefaultAttribute { get; init; }

    /// <summary>The attribute taken from the tag's content when not given (<c>useContent</c>).</summary>
    public string? ContentAttribute { get; init; }

    /// <summary>The start tag is only a tag when its end tag follows (<c>$forceLookahead</c>).</summary>
    public bool ForceLookahead { get; init; }

    /// <summary>Filters the parsed attributes; null means the tag is invalid (a required attribute is missing or bad).</summary>
    public required Func<IReadOnlyDictionary<string, string>, IReadOnlyDictionary<string, string>?> FilterAttributes { get; init; }

    public bool IsBlock => Kind is TagKind.Block or TagKind.List or TagKind.ListItem or TagKind.Code;
    public bool IsLink => Name is "URL" or "EMAIL";
}
