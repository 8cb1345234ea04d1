using System.Text;

namespace AtSync.Core.Forum.Text;

/// <summary>
/// Text XML 1.0 can hold, as s9e TextFormatter's parser prepares it (src/Parser.php <c>reset</c>): CR and CRLF become
/// LF; C0 controls other than tab and LF, U+FFFE and U+FFFF go; so do unpaired surrogates (not text at all; PHP
/// refuses them as invalid UTF-8).
/// </summary>
public static class XmlSafeText
{
    public static string Clean(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var i = 0;
        while (i < text.Length && IsKept(text, i, out var pair)) i += pair ? 2 : 1;
        if (i == text.Length) return text;

        var builder = new StringBuilder(text.Length);
        builder.Append(text, 0, i);
        for (; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\r')
            {
                builder.Append('\n');
                if (i + 1 < text.Length && text[i + 1] == '\n') i++;
                continue;
            }
            if (IsKept(text, i, out var pair))
            {
                builder.Append(c);
                if (pair)
                {
                    builder.Append(text[i + 1]);
                    i++;
                }
            }
        }
        return builder.ToString();
    }

    /// <summary>Whether the character at <paramref name="i"/> stays (a CR never does: it becomes LF).</summary>
    private static bool IsKept(string text, int i, out bool surrogatePair)
    {
        surrogatePair = false;
        var c = text[i];
        if (c < 0x20) return c is '\t' or '\n';
        if (c is '\uFFFE' or '\uFFFF') return false;
        if (char.IsHighSurrogate(c))
        {
            surrogatePair = i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]);
            return surrogatePair;
        }
        return !char.IsLowSurrogate(c);
    }
}
