using System.Net;
using System.Text.Json;

namespace AtSync.AtProto.OAuth;

/// <summary>Reads a small JSON answer from the network: bounded size, object at the top, parse errors as <see cref="OAuthException"/>.</summary>
internal static class BoundedJson
{
    public const int MaxBytes = 64 * 1024;

    public static async Task<(JsonDocument? Document, HttpStatusCode Status)> ReadAsync(HttpResponseMessage response, string what, CancellationToken cancellationToken)
    {
        if (response.Content.Headers.ContentLength is > MaxBytes)
        {
            throw new OAuthException(OAuthException.ProtocolViolation, $"{what}: the answer is larger than {MaxBytes} bytes", response.StatusCode);
        }
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        var buffer = new byte[MaxBytes + 1];
        var total = 0;
        int n;
        while (total < buffer.Length && (n = await stream.ReadAsync(buffer.AsMemory(total), cancellationToken).ConfigureAwait(false)) > 0)
        {
            total += n;
        }
        if (total > MaxBytes)
        {
            throw new OAuthException(OAuthException.ProtocolViolation, $"{what}: the answer is larger than {MaxBytes} bytes", response.StatusCode);
        }
        if (total == 0) return (null, response.StatusCode);
        try
        {
            var document = JsonDocument.Parse(buffer.AsMemory(0, total), new JsonDocumentOptions { MaxDepth = 16 });
            if (document.RootElement.ValueKind == JsonValueKind.Object) return (document, response.StatusCode);
            document.Dispose();
        }
        catch (JsonException)
        {
            // Reported below without the body (it may echo secrets).
        }
        if (!response.IsSuccessStatusCode) return (null, response.StatusCode);
        throw new OAuthException(OAuthException.ProtocolViolation, $"{what}: the answer is not a JSON object", response.StatusCode);
    }

    public static string? String(this JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    public static IReadOnlyList<string> Strings(this JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Array
            ? [.. value.EnumerateArray().Where(v => v.ValueKind == JsonValueKind.String).Select(v => v.GetString()!).Take(256)]
            : [];

    public static bool True(this JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.True;

    /// <summary>Server text shown to people or logs: control characters out, at most 200 characters.</summary>
    public static string Clip(string? text)
    {
        if (string.IsNullOrEmpty(text)) return "";
        var clean = new string([.. text.Where(c => !char.IsControl(c)).Take(200)]);
        return clean;
    }
}
