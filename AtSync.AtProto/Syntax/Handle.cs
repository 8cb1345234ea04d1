using System.Diagnostics.CodeAnalysis;

namespace AtSync.AtProto.Syntax;

/// <summary>
/// A handle: a DNS name of at least two labels (each 1–63 of [A-Za-z0-9-], no leading/trailing '-'),
/// whose last label starts with a letter, at most 253 characters. Stored lowercased (handles are case-insensitive).
/// </summary>
public readonly record struct Handle
{
    public const int MaxLength = 253;

    /// <summary>What <c>com.atproto</c> reports when a handle does not verify.</summary>
    public const string Invalid = "handle.invalid";

    private readonly string? _value;

    private Handle(string value) => _value = value;

    /// <summary>The normalized (lowercase) handle.</summary>
    public string Value => _value ?? throw new InvalidOperationException("Default Handle has no value.");

    public override string ToString() => _value ?? "";

    public static bool IsValid(ReadOnlySpan<char> s)
    {
        if (s.Length is 0 or > MaxLength)
        {
            return false;
        }
        var labels = 0;
        ReadOnlySpan<char> last = default;
        foreach (var range in s.Split('.'))
        {
            var label = s[range];
            if (!SyntaxChars.IsLabel(label))
            {
                return false;
            }
            labels++;
            last = label;
        }
        return labels >= 2 && char.IsAsciiLetter(last[0]);
    }

    public static bool TryParse([NotNullWhen(true)] string? s, out Handle result)
    {
        if (s is not null && IsValid(s))
        {
            result = new Handle(s.ToLowerInvariant());
            return true;
        }
        result = default;
        return false;
    }

    public static Handle Parse(string s) => TryParse(s, out var h) ? h : throw new AtSyntaxException("handle", s);

    public static implicit operator string(Handle handle) => handle.Value;
}
