using System.Globalization;
using System.Text;

namespace AtSync.Core.Forum.Text;

/// <summary>Whether a string is within a lexicon's <c>maxLength</c> (UTF-8 bytes) and <c>maxGraphemes</c>.</summary>
public enum LexiconLength
{
    Within,
    TooManyBytes,
    TooManyGraphemes,
}

/// <summary>
/// The string limits of <c>net.vza.forum.post</c> (lexicons/net.vza.forum.post.json). A record over them is not a
/// valid record, so it is refused, never cut. Bytes are counted first: grapheme counting only runs on a string
/// already known to be short.
/// </summary>
public static class LexiconLimits
{
    public static readonly StringLimit PostText = new(MaxBytes: 100_000, MaxGraphemes: 50_000);
    public static readonly StringLimit PostSubject = new(MaxBytes: 255, MaxGraphemes: 100);

    public static LexiconLength Check(string value, StringLimit limit)
    {
        ArgumentNullException.ThrowIfNull(value);
        // Every UTF-16 unit is at most 3 UTF-8 bytes, and at least one: skip the exact count when the answer is clear.
        if (value.Length > limit.MaxBytes) return LexiconLength.TooManyBytes;
        if (value.Length * 3 > limit.MaxBytes && Encoding.UTF8.GetByteCount(value) > limit.MaxBytes) return LexiconLength.TooManyBytes;
        if (value.Length <= limit.MaxGraphemes) return LexiconLength.Within;
        return new StringInfo(value).LengthInTextElements > limit.MaxGraphemes ? LexiconLength.TooManyGraphemes : LexiconLength.Within;
    }
}

/// <summary>A lexicon string's <c>maxLength</c> (UTF-8 bytes) and <c>maxGraphemes</c>.</summary>
public readonly record struct StringLimit(int MaxBytes, int MaxGraphemes);
