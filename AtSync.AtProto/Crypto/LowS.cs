namespace AtSync.AtProto.Crypto;

/// <summary>The atproto signature shape: 64-byte r ‖ s with 0 &lt; r &lt; n and 0 &lt; s ≤ n/2.</summary>
public static class LowS
{
    /// <summary>True when <paramref name="signature"/> is 64 bytes, r in [1, n), s in [1, n/2].</summary>
    public static bool IsCompactLowS(KeyCurve curve, ReadOnlySpan<byte> signature)
    {
        if (signature.Length != 64)
        {
            return false;
        }
        var math = CurveMath.For(curve);
        var r = signature[..32];
        var s = signature[32..];
        return !IsZero(r) && !IsZero(s) && r.SequenceCompareTo(math.OrderBytes) < 0 && s.SequenceCompareTo(math.HalfOrderBytes) <= 0;
    }

    /// <summary>Returns the signature with s replaced by n − s when s &gt; n/2 (the same signature, low-S form).</summary>
    public static byte[] Normalize(KeyCurve curve, ReadOnlySpan<byte> signature)
    {
        if (signature.Length != 64)
        {
            throw new ArgumentException("A compact signature is 64 bytes.", nameof(signature));
        }
        var result = signature.ToArray();
        var math = CurveMath.For(curve);
        if (signature[32..].SequenceCompareTo(math.HalfOrderBytes) > 0)
        {
            var s = CurveMath.ToInt(signature[32..]);
            CurveMath.ToBytes32(math.Order - s).CopyTo(result, 32);
        }
        return result;
    }

    /// <summary>The high-S twin of a signature (s → n − s): valid plain ECDSA, invalid in atproto. For tests.</summary>
    public static byte[] ToHighS(KeyCurve curve, ReadOnlySpan<byte> signature)
    {
        var low = Normalize(curve, signature);
        var math = CurveMath.For(curve);
        var s = CurveMath.ToInt(low.AsSpan(32));
        CurveMath.ToBytes32(math.Order - s).CopyTo(low, 32);
        return low;
    }

    private static bool IsZero(ReadOnlySpan<byte> value) => value.IndexOfAnyExcept((byte)0) < 0;
}
