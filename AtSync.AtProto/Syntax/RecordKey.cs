using System.Diagnostics.CodeAnalysis;

namespace AtSync.AtProto.Syntax;

/// <summary>A record key: 1–512 of [A-Za-z0-9._:~-], neither <c>.</c> nor <c>..</c>.</summary>
public readonly record struct RecordKey
{
    public const int MaxLength = 512;

    private readonly string? _value;

    private RecordKey(string value) => _value = value;

    public string Value => _value ?? throw new InvalidOperationException("Default RecordKey has no value.");

    public override string ToString() => _value ?? "";

    public static bool IsValid(ReadOnlySpan<char> s)
    {
        if (s.Length is 0 or > MaxLength || s is "." or "..")
        {
            return false;
        }
        foreach (var c in s)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('.' or '_' or ':' or '~' or '-'))
            {
                return false;
            }
        }
        return true;
    }

    public static bool TryParse([NotNullWhen(true)] string? s, out RecordKey result)
    {
        if (s is not null && IsValid(s))
        {
            result = new RecordKey(s);
            return true;
        }
        result = default;
        return false;
    }

    public static RecordKey Parse(string s) => TryParse(s, out var k) ? k : throw new AtSyntaxException("record key", s);

    public static implicit operator string(RecordKey key) => key.Value;
}
