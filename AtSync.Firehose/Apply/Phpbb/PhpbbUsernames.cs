using System.Text;
using AtSync.Core.Forum.Text;

namespace AtSync.Firehose.Apply.Phpbb;

/// <summary>
/// phpBB usernames for users created from a DID: the handle when known, else a name from the DID; phpBB's
/// uniqueness is on <c>username_clean</c> (its <c>utf8_clean_string</c>: case-folded, whitespace collapsed, trimmed).
/// </summary>
public static class PhpbbUsernames
{
    public const int MaxLength = 255;

    /// <summary>phpBB's <c>utf8_clean_string</c> for the characters a handle or DID can hold.</summary>
    public static string Clean(string username)
    {
        var builder = new StringBuilder(username.Length);
        var space = false;
        foreach (var c in username.Trim())
        {
            if (char.IsWhiteSpace(c))
            {
                space = true;
                continue;
            }
            if (space && builder.Length > 0) builder.Append(' ');
            space = false;
            builder.Append(char.ToLowerInvariant(c));
        }
        return builder.ToString();
    }

    /// <summary>The preferred name for a DID: its handle, or <c>did-plc-abcd…</c> when no handle is known.</summary>
    public static string Preferred(string did, string? handle)
    {
        if (!string.IsNullOrWhiteSpace(handle) && handle != "handle.invalid") return PhpbbText.Truncate(handle, MaxLength - 8);
        return PhpbbText.Truncate(did.Replace(':', '-'), MaxLength - 8);
    }

    /// <summary>The n-th candidate: the name itself, then <c>name (2)</c>, <c>name (3)</c>, …</summary>
    public static string Candidate(string name, int attempt) => attempt <= 1 ? name : $"{name} ({attempt})";
}
