using System.Text;
using AtSync.Core.Settings;
using AtSync.Core.Tokens;
using NSec.Cryptography;

namespace AtSync.Tests.Core;

public sealed class TokenCipherTests
{
    // Keys of the stored-format vectors below: v1 = bytes 0x00..0x1f, "2024-01" = 32 × 0xa5.
    private const string KeysJson = """{"v1":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=","2024-01":"paWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaU="}""";

    // Sealed by Debian's libsodium 1.0.18 (crypto_aead_xchacha20poly1305_ietf_encrypt, empty AD) — the library the
    // phpBB extension's PHP sodium functions call — and written in the stored format: version ':' base64(nonce‖ct‖tag).
    // v1: nonce = bytes 100..123; "2024-01": nonce = 24 zero bytes.
    private const string V1AccessVector =
        "v1:ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7GQqz2J1p6uvIWdd28xX0+BXSGEjKTanT6SYXil8xE3XFKyYGTduHq48oFnUz4TNCJxnoTGhK3BRvmASQVg==";
    private const string V1AccessPlaintext = "eyJhbGciOiJIUzI1NiJ9.access-token-example.sig";
    private const string RotatedVector = "2024-01:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAyubWfL6x/Vd8n87xOo66lBRCO1GcTd1/gxx5TJHE2y1eGeoNPe8UXDA=";
    private const string RotatedPlaintext = "refresh-jwt ünïcode ✓";
    private const string V1EmptyVector = "v1:ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7UgP4RK6bRdUuTo0evCKVqA==";

    private static TokenCipher Cipher(string current = "v1")
    {
        Assert.True(TokenKeysFormat.TryParse(KeysJson, out var keys, out _));
        return new TokenCipher(keys, current);
    }

    [Fact]
    public void Nsec_xchacha20poly1305_matches_the_draft_irtf_cfrg_xchacha_aead_vector()
    {
        // draft-irtf-cfrg-xchacha-03, appendix A.3.1 (also libsodium's own test): AEAD_XChaCha20_Poly1305 with AD.
        var key = Convert.FromHexString("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
        var nonce = Convert.FromHexString("404142434445464748494a4b4c4d4e4f5051525354555657");
        var ad = Convert.FromHexString("50515253c0c1c2c3c4c5c6c7");
        var plaintext = Encoding.ASCII.GetBytes("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.");
        var expected = Convert.FromHexString(
            "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb731c7f1b0b4aa6440bf3a82f4eda7e39" +
            "ae64c6708c54c216cb96b72e1213b4522f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9" +
            "21f9664c97637da9768812f615c68b13b52e" + "c0875924c1c7987947deafd8780acf49");

        using var k = Key.Import(AeadAlgorithm.XChaCha20Poly1305, key, KeyBlobFormat.RawSymmetricKey);
        Assert.Equal(expected, AeadAlgorithm.XChaCha20Poly1305.Encrypt(k, nonce, ad, plaintext));
        Assert.Equal(plaintext, AeadAlgorithm.XChaCha20Poly1305.Decrypt(k, nonce, ad, expected));
    }

    [Theory]
    [InlineData(V1AccessVector, V1AccessPlaintext)]
    [InlineData(RotatedVector, RotatedPlaintext)]
    [InlineData(V1EmptyVector, "")]
    public void Decrypts_libsodium_vectors_in_the_stored_format(string stored, string plaintext)
    {
        using var cipher = Cipher();
        Assert.Equal(plaintext, cipher.Decrypt(stored));
    }

    [Fact]
    public void Encrypts_exactly_like_libsodium_for_a_given_nonce()
    {
        using var cipher = Cipher();
        var nonce = Enumerable.Range(100, 24).Select(i => (byte)i).ToArray();
        Assert.Equal(V1AccessVector, cipher.Encrypt(V1AccessPlaintext, nonce));
        Assert.Equal(V1EmptyVector, cipher.Encrypt("", nonce));
    }

    [Fact]
    public void Stored_layout_is_version_prefix_then_nonce_ciphertext_tag()
    {
        using var cipher = Cipher();
        var stored = cipher.Encrypt("abc");
        Assert.StartsWith("v1:", stored, StringComparison.Ordinal);
        var raw = Convert.FromBase64String(stored["v1:".Length..]);
        Assert.Equal(TokenCipher.NonceLength + 3 + TokenCipher.TagLength, raw.Length);
        // Fresh random nonce each time: the same plaintext never seals to the same value.
        Assert.NotEqual(stored, cipher.Encrypt("abc"));
        Assert.Equal("abc", cipher.Decrypt(stored));
    }

    [Fact]
    public void Rotation_decrypts_the_old_version_and_reencrypts_with_the_current_one()
    {
        using var cipher = Cipher(current: "2024-01");
        Assert.True(cipher.NeedsReencryption(V1AccessVector));
        var rotated = cipher.Reencrypt(V1AccessVector);
        Assert.StartsWith("2024-01:", rotated, StringComparison.Ordinal);
        Assert.False(cipher.NeedsReencryption(rotated));
        Assert.Equal(V1AccessPlaintext, cipher.Decrypt(rotated));

        // After the old key is removed, the re-encrypted value still opens and the old one is an unknown version.
        Assert.True(TokenKeysFormat.TryParse("""{"2024-01":"paWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaU="}""", out var onlyNew, out _));
        using var newOnly = new TokenCipher(onlyNew, "2024-01");
        Assert.Equal(V1AccessPlaintext, newOnly.Decrypt(rotated));
        var ex = Assert.Throws<TokenCipherException>(() => newOnly.Decrypt(V1AccessVector));
        Assert.Equal(TokenCipherFailure.UnknownKeyVersion, ex.Failure);
    }

    [Fact]
    public void Unknown_version_is_a_clear_error_naming_the_version()
    {
        using var cipher = Cipher();
        var ex = Assert.Throws<TokenCipherException>(() => cipher.Decrypt("v9" + V1AccessVector[2..]));
        Assert.Equal(TokenCipherFailure.UnknownKeyVersion, ex.Failure);
        Assert.Contains("'v9'", ex.Message, StringComparison.Ordinal);
        Assert.Contains(SettingNames.TokenEncryptionKeys, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(3)]   // inside the nonce
    [InlineData(30)]  // inside the ciphertext
    [InlineData(-1)]  // the last byte of the tag
    public void Tampered_bytes_are_a_clear_error(int index)
    {
        using var cipher = Cipher();
        var raw = Convert.FromBase64String(V1AccessVector["v1:".Length..]);
        raw[index < 0 ? raw.Length + index : index] ^= 0x01;
        var ex = Assert.Throws<TokenCipherException>(() => cipher.Decrypt("v1:" + Convert.ToBase64String(raw)));
        Assert.Equal(TokenCipherFailure.Tampered, ex.Failure);
        Assert.DoesNotContain(V1AccessPlaintext, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Value_sealed_with_another_key_of_the_same_version_fails_authentication()
    {
        using var cipher = Cipher();
        Assert.True(TokenKeysFormat.TryParse("""{"v1":"paWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaU="}""", out var other, out _));
        using var otherCipher = new TokenCipher(other, "v1");
        var ex = Assert.Throws<TokenCipherException>(() => otherCipher.Decrypt(V1AccessVector));
        Assert.Equal(TokenCipherFailure.Tampered, ex.Failure);
    }

    [Theory]
    [InlineData("")]
    [InlineData("no-version-prefix")]
    [InlineData(":AAAA")]
    [InlineData("v1:not base64!")]
    [InlineData("v1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")] // 24 bytes: a nonce but no tag
    public void Malformed_values_are_a_clear_error(string stored)
    {
        using var cipher = Cipher();
        var ex = Assert.Throws<TokenCipherException>(() => cipher.Decrypt(stored));
        Assert.Equal(TokenCipherFailure.Malformed, ex.Failure);
    }

    [Fact]
    public void No_error_message_carries_key_material_ciphertext_or_plaintext()
    {
        using var cipher = Cipher();
        var raw = Convert.FromBase64String(V1AccessVector["v1:".Length..]);
        raw[^1] ^= 0xff;
        var tampered = "v1:" + Convert.ToBase64String(raw);
        var messages = new[] { tampered, "v7" + V1AccessVector[2..], "v1:@@@", "v1" }
            .Select(stored => Assert.Throws<TokenCipherException>(() => cipher.Decrypt(stored)).ToString())
            .ToList();
        foreach (var message in messages)
        {
            Assert.DoesNotContain("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", message, StringComparison.Ordinal);
            Assert.DoesNotContain(V1AccessVector[3..20], message, StringComparison.Ordinal);
            Assert.DoesNotContain(tampered[3..20], message, StringComparison.Ordinal);
            Assert.DoesNotContain(V1AccessPlaintext, message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void From_options_uses_the_current_version_for_new_writes()
    {
        using var cipher = TokenCipher.FromOptions(new TokenEncryptionOptions { Keys = KeysJson, CurrentVersion = "2024-01" });
        Assert.Equal("2024-01", TokenCipher.VersionOf(cipher.Encrypt("x")));
        Assert.Equal(V1AccessPlaintext, cipher.Decrypt(V1AccessVector));
    }
}
