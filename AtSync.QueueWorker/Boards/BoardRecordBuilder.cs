using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using AtSync.Core.Forum;
using AtSync.Core.Forum.Text;
using AtSync.QueueWorker.Records;

namespace AtSync.QueueWorker.Boards;

/// <summary>A board record to write: its JSON and the slug <c>atproto_forums</c> keeps beside its AT-URI.</summary>
public sealed record BoardRecord(byte[] Json, string Slug);

/// <summary>
/// Builds <c>net.vza.forum.board</c> records (schema in <c>lexicons/net.vza.forum.board.json</c>) from phpBB forums
/// of every type: <c>name</c> (phpBB stores it HTML-escaped; the record carries the text),
/// <c>slug</c> (<see cref="Slug"/>), <c>description</c> and <c>rules</c> as BBCode, <c>boardType</c> from <c>forum_type</c>
/// (<c>category</c>, <c>forum</c>, <c>link</c>), <c>order</c> (phpBB's nested-set <c>left_id</c>, which orders siblings
/// as phpBB shows them), <c>parent</c> (the parent board's strong ref; none for a top-level board), <c>linkUrl</c>
/// (a link's <c>forum_link</c>, only when it is an absolute http(s) URI) and <c>status</c>. Texts longer than the
/// lexicon allows are cut at a grapheme boundary.
/// </summary>
public static class BoardRecordBuilder
{
    public const int MaxNameBytes = 255;
    public const int MaxNameGraphemes = 100;
    public const int MaxSlugLength = 50;
    public const int MaxDescriptionBytes = 5000;
    public const int MaxDescriptionGraphemes = 2000;
    public const int MaxRulesBytes = 10_000;

    /// <summary>The longest <c>linkUrl</c> written (phpBB's column holds 255 characters).</summary>
    public const int MaxLinkLength = 2048;

    public static BoardRecord Build(PhpbbForum forum, StrongRef? parent = null)
    {
        ArgumentNullException.ThrowIfNull(forum);
        var boardType = forum.Type switch
        {
            PhpbbConstants.ForumCategory => "category",
            PhpbbConstants.ForumPost => "forum",
            PhpbbConstants.ForumLink => "link",
            _ => throw new RecordBuildException($"forum {forum.ForumId} has an unknown forum_type {forum.Type}"),
        };
        var name = Fit(WebUtility.HtmlDecode(forum.Name).Trim(), MaxNameBytes, MaxNameGraphemes);
        if (name.Length == 0) name = $"Forum {forum.ForumId}";
        var slug = Slug(name, forum.ForumId);
        var description = Fit(PhpbbText.ToBbcode(forum.Description, forum.DescriptionUid), MaxDescriptionBytes, MaxDescriptionGraphemes);
        var rules = Fit(PhpbbText.ToBbcode(forum.Rules, forum.RulesUid), MaxRulesBytes, int.MaxValue);

        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("$type", ForumLexicon.Board);
            json.WriteString("name", name);
            json.WriteString("slug", slug);
            if (description.Length > 0) json.WriteString("description", description);
            json.WriteString("boardType", boardType);
            json.WriteNumber("order", Math.Max(0, forum.LeftId));
            if (parent is not null)
            {
                json.WriteStartObject("parent");
                json.WriteString("uri", parent.Uri);
                json.WriteString("cid", parent.Cid);
                json.WriteEndObject();
            }
            if (forum.Type == PhpbbConstants.ForumLink && LinkUrl(forum.Link) is { } linkUrl) json.WriteString("linkUrl", linkUrl);
            if (rules.Length > 0) json.WriteString("rules", rules);
            json.WriteString("status", forum.Status == PhpbbConstants.ItemLocked ? "locked" : "open");
            json.WriteEndObject();
        }
        return new BoardRecord(buffer.ToArray(), slug);
    }

    /// <summary>
    /// phpBB's <c>forum_link</c> (stored HTML-escaped) as an absolute http or https URI, or null when it is not one
    /// (empty, relative, another scheme, whitespace or control characters, too long).
    /// </summary>
    public static string? LinkUrl(string forumLink)
    {
        var link = WebUtility.HtmlDecode(forumLink ?? "").Trim();
        if (link.Length == 0 || link.Length > MaxLinkLength || link.Any(c => char.IsWhiteSpace(c) || char.IsControl(c))) return null;
        if (!Uri.TryCreate(link, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)) return null;
        return uri.Host.Length == 0 ? null : link;
    }

    /// <summary>
    /// The name's letters and digits (any script), lowercased, with single hyphens between words, at most
    /// <see cref="MaxSlugLength"/> UTF-8 bytes (the lexicon's <c>maxLength</c>); <c>forum-N</c> when nothing is left.
    /// </summary>
    public static string Slug(string name, long forumId)
    {
        var slug = new StringBuilder(MaxSlugLength);
        var bytes = 0;
        var hyphen = false;
        foreach (var rune in name.EnumerateRunes())
        {
            if (!Rune.IsLetterOrDigit(rune))
            {
                hyphen = true;
                continue;
            }
            var lower = Rune.ToLowerInvariant(rune);
            var cost = lower.Utf8SequenceLength + (hyphen && slug.Length > 0 ? 1 : 0);
            if (bytes + cost > MaxSlugLength) break;
            if (hyphen && slug.Length > 0) slug.Append('-');
            hyphen = false;
            slug.Append(lower.ToString());
            bytes += cost;
        }
        return slug.Length == 0 ? $"forum-{forumId}" : slug.ToString();
    }

    private static string Fit(string text, int maxBytes, int maxGraphemes)
    {
        var info = new StringInfo(text);
        if (info.LengthInTextElements > maxGraphemes) text = info.SubstringByTextElements(0, maxGraphemes);
        if (Encoding.UTF8.GetByteCount(text) <= maxBytes) return text;
        // Cut by bytes, then back to the last whole grapheme.
        var elements = StringInfo.GetTextElementEnumerator(text);
        var bytes = 0;
        var end = 0;
        while (elements.MoveNext())
        {
            var element = (string)elements.Current;
            bytes += Encoding.UTF8.GetByteCount(element);
            if (bytes > maxBytes) break;
            end = elements.ElementIndex + element.Length;
        }
        return text[..end];
    }
}
