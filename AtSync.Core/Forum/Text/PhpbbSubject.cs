namespace AtSync.Core.Forum.Text;

/// <summary>
/// One-line fields from the network as phpBB's request layer and <c>submit_post</c> store them: control characters
/// out (line breaks and tabs as spaces; NUL, ESC, U+FFFE/U+FFFF, lone surrogates dropped), HTML-escaped once, cut as
/// <c>truncate_string</c> counts, characters outside the BMP as references.
/// </summary>
public static class PhpbbSubject
{
    /// <summary>A subject or topic title (120 characters displayed, 255 stored).</summary>
    public static string Stored(string? subject) =>
        PhpbbColumnText.Truncate(PhpbbRequestText.SingleLine(subject ?? ""));

    /// <summary>A username (255 stored).</summary>
    public static string Username(string name) =>
        PhpbbColumnText.Truncate(PhpbbRequestText.SingleLine(name), PhpbbColumnText.ColumnMaxCharacters, PhpbbColumnText.ColumnMaxCharacters);
}
