using System.Text.Json;

namespace AtSync.Core.Settings;

/// <summary>
/// Parses <c>TOKEN_ENCRYPTION_KEYS</c>: a JSON object mapping a key version to base64 of exactly 32 bytes,
/// e.g. <c>{"v1":"…44 base64 chars…"}</c>. Failure reasons name versions, never key material.
/// </summary>
public static class TokenKeysFormat
{
    public const int KeyLength = 32;

    public static bool TryParse(string? json, out IReadOnlyDictionary<string, byte[]> keys, out string? reason)
    {
        keys = new Dictionary<string, byte[]>();
        if (string.IsNullOrWhiteSpace(json))
        {
            reason = "is missing";
            return false;
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException)
        {
            reason = "is not JSON (expected an object of key version → base64 of 32 bytes)";
            return false;
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                reason = "is not a JSON object (expected {\"v1\":\"<base64 of 32 bytes>\"})";
                return false;
            }

            var parsed = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.Name.Length == 0 || property.Name.Contains(':'))
                {
                    reason = "has a key version that is empty or contains ':'";
                    return false;
                }
                var key = property.Value.ValueKind == JsonValueKind.String ? DecodeBase64(property.Value.GetString()!) : null;
                if (key is null || key.Length != KeyLength)
                {
                    reason = $"key '{property.Name}' is not base64 of {KeyLength} bytes";
                    return false;
                }
                parsed[property.Name] = key;
            }

            if (parsed.Count == 0)
            {
                reason = "holds no keys";
                return false;
            }
            keys = parsed;
            reason = null;
            return true;
        }
    }

    private static byte[]? DecodeBase64(string text)
    {
        var buffer = new byte[(text.Length * 3 / 4) + 3];
        return Convert.TryFromBase64String(text, buffer, out var written) ? buffer[..written] : null;
    }
}
