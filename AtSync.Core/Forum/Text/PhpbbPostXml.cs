namespace AtSync.Core.Forum.Text;

/// <summary>
/// A post's BBCode as phpBB 3.3 stores it in <c>post_text</c>: s9e TextFormatter XML for phpBB's default BBCodes
/// (b, i, u, quote, code, list, *, url, email, img, color, size) and magic links, <c>&lt;r&gt;…&lt;/r&gt;</c> when
/// anything was parsed and <c>&lt;t&gt;…&lt;/t&gt;</c> otherwise. Every tag keeps the markup its author typed
/// (<c>&lt;s&gt;[b]&lt;/s&gt;</c>), so phpBB renders the post and its edit form gives back the original text, and
/// the QueueWorker's <c>PhpbbText.ToBbcode</c> does too. Smilies stay text (store the post with <c>enable_smilies = 0</c>);
/// everything else is escaped. Characters outside the BMP are left as they are: the storage layer encodes them.
/// </summary>
public static class PhpbbPostXml
{
    /// <summary>The stored XML for text that already went through <see cref="PhpbbRequestText.Normalize"/> (or phpBB's request layer).</summary>
    public static string FromBbcode(string bbcode) => FromBbcode(bbcode, bbcodes: true);

    /// <summary>
    /// As <see cref="FromBbcode(string)"/>; with <paramref name="bbcodes"/> false, as phpBB parses a post whose author
    /// ticked "Disable BBCode" (<c>enable_bbcode = 0</c>): the markup stays text, magic links are still linked.
    /// </summary>
    public static string FromBbcode(string bbcode, bool bbcodes)
    {
        var text = XmlSafeText.Clean(bbcode);
        var builder = new PhpbbXmlBuilder(text);
        if (bbcodes && text.Contains('[')) new BbcodeScanner(text, builder).Scan();
        MagicLinkScanner.Scan(text, builder);
        return builder.Build();
    }
}
