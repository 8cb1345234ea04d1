using System.Security.Cryptography;
using AtSync.AtProto.Crypto;

namespace AtSync.Tests.AtProto;

/// <summary>The secp256k1 backend (native libsecp256k1 via Secp256k1.Net) is the one in use here and keeps the atproto rules.</summary>
public sealed class Secp256k1BackendTests
{
    [Fact]
    public void The_native_backend_loads_here()
    {
        Assert.Equal("libsecp256k1", PublicKey.Secp256k1Backend);
    }

    [Fact]
    public void Native_verification_accepts_low_S_and_refuses_high_S_other_data_and_other_keys()
    {
        using var key = SigningKey.Generate(KeyCurve.Secp256k1);
        using var other = SigningKey.Generate(KeyCurve.Secp256k1);
        var verifying = PublicKey.ParseDidKey(key.DidKey);
        for (var i = 0; i < 50; i++)
        {
            var data = RandomNumberGenerator.GetBytes(100 + i);
            var sig = key.Sign(data);
            Assert.True(verifying.Verify(data, sig));
            Assert.False(verifying.Verify(data, LowS.ToHighS(KeyCurve.Secp256k1, sig)));
            Assert.False(other.PublicKey.Verify(data, sig));
            data[i % data.Length] ^= 1;
            Assert.False(verifying.Verify(data, sig));
            Assert.False(verifying.Verify(data, sig.AsSpan(0, 63)));
            Assert.False(verifying.Verify(data, new byte[64]));
        }
    }
}
