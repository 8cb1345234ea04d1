using System.Diagnostics.CodeAnalysis;

namespace AtSync.AtProto.Syntax;

/// <summary>
/// A timestamp identifier: 13 characters of base32-sortable (<c>234567a–z</c>) encoding a 64-bit integer whose
/// top bit is 0, 53 bits of microseconds since the Unix epoch and 10 bits of clock id. Orders like its string.
/// </summary>
public readonly record struct Tid : IComparable<Tid>
{
    public const int Length = 13;
    private const string Alphabet = "234567abcdefghijklmnopqrstuvwxyz";
    private const long MaxMicros = (1L << 53) - 1;

    private readonly ulong _bits;

    private Tid(ulong bits) => _bits = bits;

    /// <summary>The 64-bit integer.</summary>
    public ulong Value => _bits;

    /// <summary>Microseconds since the Unix epoch.</summary>
    public long TimestampMicroseconds => (long)((_bits >> 10) & MaxMicros);

    /// <summary>The timestamp (microsecond precision).</summary>
    public DateTimeOffset Timestamp => DateTimeOffset.UnixEpoch.AddTicks(Math.Min(TimestampMicroseconds, (DateTimeOffset.MaxValue - DateTimeOffset.UnixEpoch).Ticks / 10) * 10);

    /// <summary>Clock identifier, 0–1023.</summary>
    public int ClockId => (int)(_bits & 0x3FF);

    /// <summary>Builds a TID from microseconds since the epoch (0 … 2^53−1) and a clock id (0 … 1023).</summary>
    public static Tid FromParts(long timestampMicroseconds, int clockId)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(timestampMicroseconds);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(timestampMicroseconds, MaxMicros);
        ArgumentOutOfRangeException.ThrowIfNegative(clockId);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(clockId, 1023);
        return new Tid(((ulong)timestampMicroseconds << 10) | (uint)clockId);
    }

    public static bool IsValid(ReadOnlySpan<char> s) => TryDecode(s, out _);

    public static bool TryParse([NotNullWhen(true)] string? s, out Tid result)
    {
        if (TryDecode(s, out var bits))
        {
            result = new Tid(bits);
            return true;
        }
        result = default;
        return false;
    }

    public static Tid Parse(string s) => TryParse(s, out var t) ? t : throw new AtSyntaxException("TID", s);

    private static bool TryDecode(ReadOnlySpan<char> s, out ulong bits)
    {
        bits = 0;
        if (s.Length != Length)
        {
            return false;
        }
        for (var i = 0; i < Length; i++)
        {
            var v = Decode(s[i]);
            // The first character carries only 4 bits (13 × 5 = 65).
            if (v < 0 || (i == 0 && v > 15))
            {
                return false;
            }
            bits = (bits << 5) | (uint)v;
        }
        return true;
    }

    private static int Decode(char c) => c switch
    {
        >= '2' and <= '7' => c - '2',
        >= 'a' and <= 'z' => c - 'a' + 6,
        _ => -1,
    };

    public override string ToString() => string.Create(Length, _bits, static (span, bits) =>
    {
        for (var i = Length - 1; i >= 0; i--)
        {
            span[i] = Alphabet[(int)(bits & 31)];
            bits >>= 5;
        }
    });

    public int CompareTo(Tid other) => _bits.CompareTo(other._bits);

    public static bool operator <(Tid a, Tid b) => a._bits < b._bits;

    public static bool operator >(Tid a, Tid b) => a._bits > b._bits;

    public static bool operator <=(Tid a, Tid b) => a._bits <= b._bits;

    public static bool operator >=(Tid a, Tid b) => a._bits >= b._bits;
}
