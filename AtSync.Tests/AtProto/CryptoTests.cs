using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AtSync.AtProto.Crypto;

namespace AtSync.Tests.AtProto;

public sealed class CryptoTests
{
    private sealed record SignatureFixture(
        string Comment, string MessageBase64, string Algorithm, string DidDocSuite, string PublicKeyDid,
        string PublicKeyMultibase, string SignatureBase64, bool ValidSignature, string[] Tags);

    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    private static SignatureFixture[] SignatureFixtures() =>
        JsonSerializer.Deserialize<SignatureFixture[]>(File.ReadAllText(InteropCorpus.Path("crypto", "signature-fixtures.json")), Web)!;

    /// <summary>The fixtures use unpadded base64.</summary>
    private static byte[] B64(string s) => Convert.FromBase64String(s.PadRight((s.Length + 3) / 4 * 4, '='));

    private static KeyCurve CurveOf(string algorithm) => algorithm switch
    {
        "ES256" => KeyCurve.P256,
        "ES256K" => KeyCurve.Secp256k1,
        _ => throw new InvalidOperationException(algorithm),
    };

    [Fact]
    public void Every_signature_fixture_gets_the_expected_verdict()
    {
        var fixtures = SignatureFixtures();
        Assert.Equal(6, fixtures.Length);
        Assert.Equal(2, fixtures.Count(f => f.ValidSignature));

        foreach (var f in fixtures)
        {
            var key = PublicKey.ParseDidKey(f.PublicKeyDid);
            Assert.Equal(CurveOf(f.Algorithm), key.Curve);
            Assert.Equal(f.Algorithm, key.JwtAlgorithm);
            Assert.Equal(f.PublicKeyDid, key.ToDidKey());
            // The legacy DID-document form (no multicodec, curve from the suite) names the same key.
            Assert.Equal(key, PublicKey.ParseLegacyMultibase(key.Curve, f.PublicKeyMultibase));

            var verdict = key.Verify(B64(f.MessageBase64), B64(f.SignatureBase64));

            Assert.True(verdict == f.ValidSignature, $"{f.Comment}: expected {f.ValidSignature}, got {verdict}");
        }
    }

    [Fact]
    public void Rejected_fixtures_fail_only_because_of_their_encoding()
    {
        // Anti-vacuity: the high-S and DER fixtures are genuine signatures of the message, so rejecting them
        // shows the low-S / compact rules at work rather than a verifier that refuses everything.
        foreach (var f in SignatureFixtures().Where(f => !f.ValidSignature))
        {
            var key = PublicKey.ParseDidKey(f.PublicKeyDid);
            var message = B64(f.MessageBase64);
            var sig = B64(f.SignatureBase64);
            byte[] compactLowS;
            if (f.Tags.Contains("high-s"))
            {
                Assert.Equal(64, sig.Length);
                Assert.False(LowS.IsCompactLowS(key.Curve, sig));
                compactLowS = LowS.Normalize(key.Curve, sig);
            }
            else
            {
                Assert.Contains("der-encoded", f.Tags);
                Assert.NotEqual(64, sig.Length);
                compactLowS = LowS.Normalize(key.Curve, DerToCompact(sig));
            }
            Assert.True(key.Verify(message, compactLowS), f.Comment);
        }
    }

    private static byte[] DerToCompact(byte[] der)
    {
        var reader = new System.Formats.Asn1.AsnReader(der, System.Formats.Asn1.AsnEncodingRules.DER);
        var seq = reader.ReadSequence();
        var r = seq.ReadIntegerBytes().ToArray().SkipWhile(b => b == 0).ToArray();
        var s = seq.ReadIntegerBytes().ToArray().SkipWhile(b => b == 0).ToArray();
        var result = new byte[64];
        r.CopyTo(result, 32 - r.Length);
        s.CopyTo(result, 64 - s.Length);
        return result;
    }

    private sealed record DidKeyFixture(string? PrivateKeyBytesHex, string? PrivateKeyBytesBase58, string PublicDidKey);

    [Theory]
    [InlineData("w3c_didkey_K256.json", KeyCurve.Secp256k1, 5)]
    [InlineData("w3c_didkey_P256.json", KeyCurve.P256, 1)]
    public void W3c_did_keys_parse_to_the_keys_of_their_private_keys(string file, KeyCurve curve, int count)
    {
        var fixtures = JsonSerializer.Deserialize<DidKeyFixture[]>(File.ReadAllText(InteropCorpus.Path("crypto", file)), Web)!;
        Assert.Equal(count, fixtures.Length);
        foreach (var f in fixtures)
        {
            var privateKey = f.PrivateKeyBytesHex is { } hex ? Convert.FromHexString(hex) : Base58Btc.Decode(f.PrivateKeyBytesBase58!);
            using var signer = SigningKey.Import(curve, privateKey);
            var parsed = PublicKey.ParseDidKey(f.PublicDidKey);

            Assert.Equal(curve, parsed.Curve);
            Assert.Equal(f.PublicDidKey, signer.DidKey);
            Assert.Equal(signer.PublicKey, parsed);
            Assert.Equal(f.PublicDidKey, parsed.ToDidKey());
            Assert.True(parsed.Verify("atproto"u8, signer.Sign("atproto"u8)));
        }
    }

    [Theory]
    [InlineData(KeyCurve.P256)]
    [InlineData(KeyCurve.Secp256k1)]
    public void Sign_then_verify_round_trips_and_rejects_tampering(KeyCurve curve)
    {
        using var key = SigningKey.Generate(curve);
        using var other = SigningKey.Generate(curve);
        var data = Encoding.UTF8.GetBytes("unsigned commit bytes");

        for (var i = 0; i < 20; i++)
        {
            var sig = key.Sign(data);
            Assert.Equal(64, sig.Length);
            Assert.True(LowS.IsCompactLowS(curve, sig));
            Assert.True(key.PublicKey.Verify(data, sig));
            Assert.True(PublicKey.ParseDidKey(key.DidKey).Verify(data, sig));
            Assert.True(key.PublicKey.VerifyHash(SHA256.HashData(data), sig));

            Assert.False(other.PublicKey.Verify(data, sig));
            var tampered = (byte[])data.Clone();
            tampered[i % tampered.Length] ^= 1;
            Assert.False(key.PublicKey.Verify(tampered, sig));
            var badSig = (byte[])sig.Clone();
            badSig[i] ^= 0x10;
            Assert.False(key.PublicKey.Verify(data, badSig));
        }
    }

    [Theory]
    [InlineData(KeyCurve.P256)]
    [InlineData(KeyCurve.Secp256k1)]
    public void High_S_and_DER_forms_of_a_valid_signature_are_rejected(KeyCurve curve)
    {
        using var key = SigningKey.Generate(curve);
        var data = "hello world"u8.ToArray();
        var sig = key.Sign(data);
        var highS = LowS.ToHighS(curve, sig);
        Assert.NotEqual(sig, highS);

        // Plain ECDSA accepts the high-S twin; atproto must not.
        using var platform = ECDsa.Create(new ECParameters
        {
            Curve = curve == KeyCurve.P256 ? ECCurve.NamedCurves.nistP256 : ECCurve.CreateFromFriendlyName("secp256k1"),
            Q = DecodeQ(key),
        });
        Assert.True(platform.VerifyData(data, highS, HashAlgorithmName.SHA256));
        Assert.False(key.PublicKey.Verify(data, highS));

        var der = platform.VerifyData(data, sig, HashAlgorithmName.SHA256)
            ? ConvertToDer(sig)
            : throw new InvalidOperationException("platform rejects our signature");
        Assert.True(platform.VerifyData(data, der, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));
        Assert.False(key.PublicKey.Verify(data, der));

        Assert.False(key.PublicKey.Verify(data, sig.AsSpan(0, 63)));
        Assert.False(key.PublicKey.Verify(data, [.. sig, 0]));
        Assert.False(key.PublicKey.Verify(data, new byte[64]));
        Assert.False(key.PublicKey.VerifyHash(new byte[31], sig));
    }

    /// <summary>The public point, from the compressed key by test-side arithmetic independent of the library.</summary>
    private static ECPoint DecodeQ(SigningKey key)
    {
        var uncompressed = Uncompressed(key.PublicKey);
        return new ECPoint { X = uncompressed[1..33], Y = uncompressed[33..] };
    }

    private static byte[] Uncompressed(PublicKey key)
    {
        var x = key.Compressed[1..].ToArray();
        var curve = key.Curve == KeyCurve.P256 ? ECCurve.NamedCurves.nistP256 : ECCurve.CreateFromFriendlyName("secp256k1");
        using var probe = ECDsa.Create(curve);
        var explicitCurve = probe.ExportExplicitParameters(false).Curve;
        var p = new System.Numerics.BigInteger(explicitCurve.Prime, true, true);
        var a = new System.Numerics.BigInteger(explicitCurve.A, true, true);
        var b = new System.Numerics.BigInteger(explicitCurve.B, true, true);
        var xi = new System.Numerics.BigInteger(x, true, true);
        var rhs = ((System.Numerics.BigInteger.ModPow(xi, 3, p) + a * xi + b) % p + p) % p;
        var y = System.Numerics.BigInteger.ModPow(rhs, (p + 1) / 4, p);
        if ((y.IsEven ? 2 : 3) != key.Compressed[0])
        {
            y = p - y;
        }
        var yBytes = y.ToByteArray(true, true);
        var result = new byte[65];
        result[0] = 4;
        x.CopyTo(result, 1);
        yBytes.CopyTo(result, 65 - yBytes.Length);
        return result;
    }

    private static byte[] ConvertToDer(byte[] compact)
    {
        var writer = new System.Formats.Asn1.AsnWriter(System.Formats.Asn1.AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteIntegerUnsigned(compact.AsSpan(0, 32).TrimStart((byte)0));
            writer.WriteIntegerUnsigned(compact.AsSpan(32).TrimStart((byte)0));
        }
        return writer.Encode();
    }

    [Theory]
    [InlineData(KeyCurve.P256)]
    [InlineData(KeyCurve.Secp256k1)]
    public void Uncompressed_points_parse_to_the_same_key_and_off_curve_points_are_refused(KeyCurve curve)
    {
        using var key = SigningKey.Generate(curve);
        var uncompressed = Uncompressed(key.PublicKey);
        Assert.Equal(key.PublicKey, PublicKey.FromSec1(curve, uncompressed));

        var offCurve = (byte[])uncompressed.Clone();
        offCurve[64] ^= 1;
        Assert.Throws<KeyFormatException>(() => PublicKey.FromSec1(curve, offCurve));
        var flipped = key.PublicKey.Compressed.ToArray();
        flipped[0] ^= 1; // the other Y: a different, valid key
        Assert.NotEqual(key.PublicKey, PublicKey.FromSec1(curve, flipped));
    }

    [Theory]
    [InlineData("did:web:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme")]
    [InlineData("did:key:")]
    [InlineData("did:key:fe70102")]
    [InlineData("did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBm0")] // '0' is not base58
    [InlineData("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK")] // ed25519, unsupported
    [InlineData("did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYB")] // truncated
    public void Malformed_or_unsupported_did_keys_throw_KeyFormatException(string didKey)
    {
        Assert.Throws<KeyFormatException>(() => PublicKey.ParseDidKey(didKey));
        Assert.False(PublicKey.TryParseDidKey(didKey, out _));
    }

    [Fact]
    public void Compressed_x_not_on_the_curve_is_refused()
    {
        // x = 5 is not the x of any secp256k1 point (5³ + 7 = 132 is a non-residue mod p).
        var bytes = new byte[33];
        bytes[0] = 0x02;
        bytes[32] = 5;
        Assert.Throws<KeyFormatException>(() => PublicKey.FromSec1(KeyCurve.Secp256k1, bytes));
        var tooLarge = Enumerable.Repeat((byte)0xff, 33).ToArray();
        tooLarge[0] = 0x03;
        Assert.Throws<KeyFormatException>(() => PublicKey.FromSec1(KeyCurve.P256, tooLarge));
    }

    [Fact]
    public void Base58_round_trips_with_leading_zeros_and_refuses_bad_text()
    {
        var rng = new Random(7);
        for (var len = 0; len < 70; len++)
        {
            var data = new byte[len];
            rng.NextBytes(data);
            if (len > 3) { data[0] = 0; data[1] = 0; }
            var text = Base58Btc.Encode(data);
            Assert.True(Base58Btc.TryDecode(text, out var back));
            Assert.Equal(data, back);
        }
        Assert.Equal("1112", Base58Btc.Encode([0, 0, 0, 1]));
        Assert.False(Base58Btc.TryDecode("abc0", out _));
        Assert.False(Base58Btc.TryDecode("abcl", out _));
        Assert.False(Base58Btc.TryDecode(new string('z', Base58Btc.MaxTextLength + 1), out _));
    }

    [Fact]
    public void SigningKey_ToString_does_not_reveal_the_private_key()
    {
        var privateKey = Convert.FromHexString("9085d2bef69286a6cbb51623c8fa258629945cd55ca705cc4e66700396894e0c");
        using var key = SigningKey.Import(KeyCurve.Secp256k1, privateKey);
        var text = key.ToString();
        Assert.Contains(key.DidKey, text);
        Assert.DoesNotContain("9085d2be", text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(Base58Btc.Encode(privateKey), text);
        Assert.Throws<KeyFormatException>(() => SigningKey.Import(KeyCurve.P256, new byte[31]));
    }
}
