namespace AtSync.AtProto.Syntax;

internal static class SyntaxChars
{
    /// <summary>A DNS-style label: 1–63 of [A-Za-z0-9-], not starting or ending with '-'.</summary>
    public static bool IsLabel(ReadOnlySpan<char> s)
    {
        if (s.Length is 0 or > 63 || s[0] == '-' || s[^1] == '-')
        {
            return false;
        }
        foreach (var c in s)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '-')
            {
                return false;
            }
        }
        return true;
    }
}
