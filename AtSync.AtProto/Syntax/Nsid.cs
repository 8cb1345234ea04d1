using System.Diagnostics.CodeAnalysis;

namespace AtSync.AtProto.Syntax;

/// <summary>
/// A namespaced identifier (<c>com.atproto.repo.createRecord</c>): a reversed domain authority of ≥ 2 labels
/// (first starting with a letter) then a name segment of letters and digits starting with a letter, at most 317 characters.
/// </summary>
public readonly record struct Nsid
{
    public const int MaxLength = 317;

    private readonly string? _value;

    private Nsid(string value) => _value = value;

    public string Value => _value ?? throw new InvalidOperationException("Default Nsid has no value.");

    /// <summary>The domain authority in reversed order (<c>com.atproto.repo</c>).</summary>
    public string Authority => Value[..Value.LastIndexOf('.')];

    /// <summary>The name segment (<c>createRecord</c>).</summary>
    public string Name => Value[(Value.LastIndexOf('.') + 1)..];

    public override string ToString() => _value ?? "";

    public static bool IsValid(ReadOnlySpan<char> s)
    {
        if (s.Length is 0 or > MaxLength)
        {
            return false;
        }
        var segments = 0;
        ReadOnlySpan<char> last = default;
        foreach (var range in s.Split('.'))
        {
            var seg = s[range];
            if (!SyntaxChars.IsLabel(seg) || (segments == 0 && !char.IsAsciiLetter(seg[0])))
            {
                return false;
            }
            segments++;
            last = seg;
        }
        if (segments < 3 || !char.IsAsciiLetter(last[0]))
        {
            return false;
        }
        foreach (var c in last)
        {
            if (!char.IsAsciiLetterOrDigit(c))
            {
                return false;
            }
        }
        return true;
    }

    public static bool TryParse([NotNullWhen(true)] string? s, out Nsid result)
    {
        if (s is not null && IsValid(s))
        {
            result = new Nsid(s);
            return true;
        }
        result = default;
        return false;
    }

    public static Nsid Parse(string s) => TryParse(s, out var n) ? n : throw new AtSyntaxException("NSID", s);

    public static implicit operator string(Nsid nsid) => nsid.Value;
}
