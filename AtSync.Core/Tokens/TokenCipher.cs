using System.Security.Cryptography;
using System.Text;
using AtSync.Core.Settings;
using NSec.Cryptography;

namespace AtSync.Core.Tokens;

/// <summary>
/// Users' PDS tokens at rest, in the format the phpBB extension writes with libsodium's
/// <c>crypto_aead_xchacha20poly1305_ietf</c>: <c>&lt;version&gt;:</c> + base64(24-byte nonce ‖ ciphertext ‖ 16-byte tag),
/// empty associated data, the key chosen by version from <c>TOKEN_ENCRYPTION_KEYS</c>. New values are sealed with
/// the current version (<c>TOKEN_ENCRYPTION_KEY_VERSION</c>), which is also how rotation re-encrypts.
/// Thread-safe.
/// </summary>
public sealed class TokenCipher : IDisposable
{
    public const int NonceLength = 24;
    public const int TagLength = 16;

    private static readonly AeadAlgorithm Algorithm = AeadAlgorithm.XChaCha20Poly1305;
    private readonly Dictionary<string, Key> _keys;

    public TokenCipher(IReadOnlyDictionary<string, byte[]> keys, string currentVersion)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentException.ThrowIfNullOrEmpty(currentVersion);
        if (!keys.ContainsKey(currentVersion))
        {
            throw new ArgumentException($"The current key version '{currentVersion}' is not among the keys.", nameof(currentVersion));
        }
        _keys = new Dictionary<string, Key>(StringComparer.Ordinal);
        foreach (var (version, material) in keys)
        {
            if (version.Length == 0 || version.Contains(':'))
            {
                throw new ArgumentException("A key version is empty or contains ':'.", nameof(keys));
            }
            if (material.Length != Algorithm.KeySize)
            {
                throw new ArgumentException($"Key '{version}' is not {Algorithm.KeySize} bytes.", nameof(keys));
            }
            _keys[version] = Key.Import(Algorithm, material, KeyBlobFormat.RawSymmetricKey);
        }
        CurrentVersion = currentVersion;
    }

    /// <summary>Builds the cipher from the validated settings.</summary>
    public static TokenCipher FromOptions(TokenEncryptionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!TokenKeysFormat.TryParse(options.Keys, out var keys, out var reason))
        {
            throw new ArgumentException($"{SettingNames.TokenEncryptionKeys} {reason}", nameof(options));
        }
        return new TokenCipher(keys, options.CurrentVersion);
    }

    /// <summary>The version new values are sealed with.</summary>
    public string CurrentVersion { get; }

    /// <summary>Seals <paramref name="plaintext"/> with the current key and a fresh random nonce.</summary>
    public string Encrypt(string plaintext)
    {
        ArgumentNullException.ThrowIfNull(plaintext);
        var nonce = RandomNumberGenerator.GetBytes(NonceLength);
        return Encrypt(plaintext, nonce);
    }

    /// <summary>Seals with a given nonce. Only for test vectors: a nonce must never be used twice with one key.</summary>
    internal string Encrypt(string plaintext, ReadOnlySpan<byte> nonce)
    {
        if (nonce.Length != NonceLength) throw new ArgumentException($"The nonce must be {NonceLength} bytes.", nameof(nonce));
        var message = Encoding.UTF8.GetBytes(plaintext);
        var sealedBytes = new byte[NonceLength + message.Length + TagLength];
        nonce.CopyTo(sealedBytes);
        Algorithm.Encrypt(_keys[CurrentVersion], nonce, [], message, sealedBytes.AsSpan(NonceLength));
        CryptographicOperations.ZeroMemory(message);
        return CurrentVersion + ":" + Convert.ToBase64String(sealedBytes);
    }

    /// <summary>Opens a stored value; throws <see cref="TokenCipherException"/> when it is malformed, of an unknown version, or altered.</summary>
    public string Decrypt(string stored)
    {
        var (version, sealedBytes) = Split(stored);
        if (!_keys.TryGetValue(version, out var key))
        {
            throw new TokenCipherException(TokenCipherFailure.UnknownKeyVersion,
                $"The stored token is sealed with key version '{version}', which {SettingNames.TokenEncryptionKeys} does not hold.");
        }
        var plaintext = new byte[sealedBytes.Length - NonceLength - TagLength];
        if (!Algorithm.Decrypt(key, sealedBytes.AsSpan(0, NonceLength), [], sealedBytes.AsSpan(NonceLength), plaintext))
        {
            throw new TokenCipherException(TokenCipherFailure.Tampered,
                $"The stored token (key version '{version}') failed authentication: it was altered or sealed with another key.");
        }
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(plaintext);
        }
        catch (DecoderFallbackException)
        {
            throw new TokenCipherException(TokenCipherFailure.Malformed, "The stored token does not decrypt to UTF-8 text.");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }

    /// <summary>The key version a stored value names (null when it is malformed).</summary>
    public static string? VersionOf(string? stored)
    {
        if (stored is null) return null;
        var colon = stored.IndexOf(':');
        return colon > 0 ? stored[..colon] : null;
    }

    /// <summary>True when <paramref name="stored"/> is sealed with an older key version than the current one.</summary>
    public bool NeedsReencryption(string stored) => VersionOf(stored) != CurrentVersion;

    /// <summary>Rotation: opens a value sealed with any known version and seals it again with the current one.</summary>
    public string Reencrypt(string stored) => Encrypt(Decrypt(stored));

    private static (string Version, byte[] Sealed) Split(string? stored)
    {
        if (string.IsNullOrEmpty(stored))
        {
            throw new TokenCipherException(TokenCipherFailure.Malformed, "The stored token is empty.");
        }
        var colon = stored.IndexOf(':');
        if (colon <= 0)
        {
            throw new TokenCipherException(TokenCipherFailure.Malformed, "The stored token has no '<version>:' prefix.");
        }
        var version = stored[..colon];
        var body = stored.AsSpan(colon + 1);
        var buffer = new byte[(body.Length * 3 / 4) + 3];
        if (!Convert.TryFromBase64Chars(body, buffer, out var written))
        {
            throw new TokenCipherException(TokenCipherFailure.Malformed, "The stored token is not base64 after its version prefix.");
        }
        if (written < NonceLength + TagLength)
        {
            throw new TokenCipherException(TokenCipherFailure.Malformed,
                $"The stored token is {written} bytes, shorter than a {NonceLength}-byte nonce and a {TagLength}-byte tag.");
        }
        return (version, buffer[..written]);
    }

    public void Dispose()
    {
        foreach (var key in _keys.Values) key.Dispose();
    }
}
