using System.Numerics;
using System.Security.Cryptography;

namespace AtSync.AtProto.Crypto;

/// <summary>Curve constants (read from the platform's explicit curve parameters) and SEC1 point (de)compression.</summary>
internal sealed class CurveMath
{
    public static readonly CurveMath P256 = new(KeyCurve.P256, ECCurve.NamedCurves.nistP256);
    public static readonly CurveMath Secp256k1 = new(KeyCurve.Secp256k1, ECCurve.CreateFromFriendlyName("secp256k1"));

    private readonly BigInteger _p;
    private readonly BigInteger _a;
    private readonly BigInteger _b;
    private readonly BigInteger _sqrtExponent;

    private CurveMath(KeyCurve curve, ECCurve named)
    {
        Curve = curve;
        NamedCurve = named;
        using var key = ECDsa.Create(named);
        var explicitCurve = key.ExportExplicitParameters(false).Curve;
        _p = ToInt(explicitCurve.Prime!);
        _a = ToInt(explicitCurve.A!);
        _b = ToInt(explicitCurve.B!);
        Order = ToInt(explicitCurve.Order!);
        HalfOrder = Order >> 1;
        HalfOrderBytes = ToBytes32(HalfOrder);
        OrderBytes = ToBytes32(Order);
        if ((_p & 3) != 3)
        {
            throw new InvalidOperationException("Point decompression assumes p ≡ 3 (mod 4).");
        }
        _sqrtExponent = (_p + 1) >> 2;
    }

    public KeyCurve Curve { get; }

    public ECCurve NamedCurve { get; }

    public BigInteger Order { get; }

    public BigInteger HalfOrder { get; }

    /// <summary>⌊n/2⌋ as 32 big-endian bytes: a low-S signature has s ≤ this.</summary>
    public byte[] HalfOrderBytes { get; }

    public byte[] OrderBytes { get; }

    public static CurveMath For(KeyCurve curve) => curve switch
    {
        KeyCurve.P256 => P256,
        KeyCurve.Secp256k1 => Secp256k1,
        _ => throw new ArgumentOutOfRangeException(nameof(curve)),
    };

    /// <summary>Recovers Y from a 33-byte compressed point (0x02/0x03 ‖ X); false when X is not on the curve.</summary>
    public bool TryDecompress(ReadOnlySpan<byte> compressed, out byte[] x, out byte[] y)
    {
        x = y = [];
        if (compressed.Length != 33 || compressed[0] is not (0x02 or 0x03))
        {
            return false;
        }
        var xi = ToInt(compressed[1..]);
        if (xi >= _p)
        {
            return false;
        }
        var rhs = Mod(BigInteger.ModPow(xi, 3, _p) + _a * xi + _b);
        var yi = BigInteger.ModPow(rhs, _sqrtExponent, _p);
        if (Mod(yi * yi) != rhs)
        {
            return false;
        }
        if ((yi.IsEven ? 0x02 : 0x03) != compressed[0])
        {
            yi = _p - yi;
        }
        x = compressed[1..].ToArray();
        y = ToBytes32(yi);
        return true;
    }

    /// <summary>True when (x, y) satisfies the curve equation with both coordinates below p.</summary>
    public bool IsOnCurve(ReadOnlySpan<byte> x, ReadOnlySpan<byte> y)
    {
        var xi = ToInt(x);
        var yi = ToInt(y);
        return xi < _p && yi < _p && Mod(yi * yi) == Mod(BigInteger.ModPow(xi, 3, _p) + _a * xi + _b);
    }

    private BigInteger Mod(BigInteger v)
    {
        var r = BigInteger.Remainder(v, _p);
        return r.Sign < 0 ? r + _p : r;
    }

    public static BigInteger ToInt(ReadOnlySpan<byte> bigEndian) => new(bigEndian, isUnsigned: true, isBigEndian: true);

    public static byte[] ToBytes32(BigInteger value)
    {
        var bytes = new byte[32];
        if (!value.TryWriteBytes(bytes.AsSpan(32 - value.GetByteCount(isUnsigned: true)), out _, isUnsigned: true, isBigEndian: true))
        {
            throw new InvalidOperationException("Value does not fit 32 bytes.");
        }
        return bytes;
    }
}
