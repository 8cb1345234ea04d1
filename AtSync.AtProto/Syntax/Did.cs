using System.Diagnostics.CodeAnalysis;

namespace AtSync.AtProto.Syntax;

/// <summary>
/// A decentralized identifier, as AT Protocol restricts them: <c>did:</c> + lowercase method + <c>:</c> +
/// method-specific id of [A-Za-z0-9._:%-], not ending in ':' or '%', at most 2,048 characters.
/// </summary>
public readonly record struct Did : ISpanParsable<Did>
{
    public const int MaxLength = 2048;

    private readonly string? _value;

    private Did(string value) => _value = value;

    /// <summary>The full DID string.</summary>
    public string Value => _value ?? throw new InvalidOperationException("Default Did has no value.");

    /// <summary>The method (<c>plc</c>, <c>web</c>, …).</summary>
    public string Method => Value[4..Value.IndexOf(':', 4)];

    /// <summary>Everything after <c>did:{method}:</c>.</summary>
    public string Identifier => Value[(Value.IndexOf(':', 4) + 1)..];

    public bool IsPlc => Value.StartsWith("did:plc:", StringComparison.Ordinal);

    public bool IsWeb => Value.StartsWith("did:web:", StringComparison.Ordinal);

    public override string ToString() => _value ?? "";

    public static bool IsValid(ReadOnlySpan<char> s)
    {
        if (s.Length > MaxLength || !s.StartsWith("did:"))
        {
            return false;
        }
        var i = 4;
        while (i < s.Length && char.IsAsciiLetterLower(s[i]))
        {
            i++;
        }
        if (i == 4 || i >= s.Length || s[i] != ':')
        {
            return false;
        }
        var id = s[(i + 1)..];
        if (id.Length == 0 || id[^1] is ':' or '%')
        {
            return false;
        }
        foreach (var c in id)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('.' or '_' or ':' or '%' or '-'))
            {
                return false;
            }
        }
        return true;
    }

    public static bool TryParse([NotNullWhen(true)] string? s, out Did result)
    {
        if (s is not null && IsValid(s))
        {
            result = new Did(s);
            return true;
        }
        result = default;
        return false;
    }

    public static Did Parse(string s) => TryParse(s, out var d) ? d : throw new AtSyntaxException("DID", s);

    static Did IParsable<Did>.Parse(string s, IFormatProvider? provider) => Parse(s);

    static bool IParsable<Did>.TryParse([NotNullWhen(true)] string? s, IFormatProvider? provider, out Did result) => TryParse(s, out result);

    static Did ISpanParsable<Did>.Parse(ReadOnlySpan<char> s, IFormatProvider? provider) => Parse(s.ToString());

    static bool ISpanParsable<Did>.TryParse(ReadOnlySpan<char> s, IFormatProvider? provider, out Did result) =>
        TryParse(IsValid(s) ? s.ToString() : null, out result);

    public static implicit operator string(Did did) => did.Value;
}
