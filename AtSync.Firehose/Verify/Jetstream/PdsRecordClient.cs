using System.Net;
using System.Text.Json;
using AtSync.Firehose.Ingest.Jetstream;
using Microsoft.Extensions.Options;

namespace AtSync.Firehose.Verify.Jetstream;

/// <summary>What an author's PDS answered to <c>com.atproto.sync.getRecord</c>.</summary>
public enum RecordFetchStatus
{
    /// <summary>A CAR (to be verified: nothing in it is trusted yet).</summary>
    Car,

    /// <summary><c>RecordNotFound</c>: the PDS says the record is not in the repository.</summary>
    NotFound,

    /// <summary>A definite refusal (another XRPC error, a CAR over the bound, an unexpected status).</summary>
    Refused,

    /// <summary>The PDS cannot be had now (connection, timeout, 429, 5xx): worth asking again later.</summary>
    Unavailable,
}

public sealed record RecordFetch(RecordFetchStatus Status, string Reason, byte[]? Car = null);

/// <summary>
/// Fetches <c>getRecord</c> CARs from authors' PDSes with its own <see cref="HttpClient"/>: no redirects, every address
/// the PDS host resolves to must be public (<c>AtSync.AtProto/Identity/IdentityHttpHandler.cs</c>, unless the host is in
/// <see cref="JetstreamOptions.AllowedPdsHosts"/>), one timeout per request, bodies read up to
/// <see cref="JetstreamOptions.MaxProofBytes"/>.
/// </summary>
public sealed class PdsRecordClient(HttpClient http, IOptions<JetstreamOptions> options)
{
    public const string HttpClientName = "jetstream-pds";
    private const int MaxErrorBytes = 4096;

    public async Task<RecordFetch> GetRecordAsync(Uri pds, string did, string collection, string rkey, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var url = new Uri(pds, "/xrpc/com.atproto.sync.getRecord?did=" + Uri.EscapeDataString(did)
            + "&collection=" + Uri.EscapeDataString(collection) + "&rkey=" + Uri.EscapeDataString(rkey));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(settings.RecordFetchTimeout);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.Accept.ParseAdd("application/vnd.ipld.car");
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var status = (int)response.StatusCode;
            if (response.StatusCode == HttpStatusCode.OK)
            {
                if (response.Content.Headers.ContentLength > settings.MaxProofBytes) return new RecordFetch(RecordFetchStatus.Refused, "proof_too_large");
                var car = await ReadBoundedAsync(response.Content, settings.MaxProofBytes, timeout.Token);
                return car is null ? new RecordFetch(RecordFetchStatus.Refused, "proof_too_large") : new RecordFetch(RecordFetchStatus.Car, "", car);
            }
            if (response.StatusCode == HttpStatusCode.TooManyRequests || status >= 500)
            {
                return new RecordFetch(RecordFetchStatus.Unavailable, $"HTTP {status}");
            }
            var error = await ErrorNameAsync(response.Content, timeout.Token);
            return error == "RecordNotFound"
                ? new RecordFetch(RecordFetchStatus.NotFound, "record_not_found")
                : new RecordFetch(RecordFetchStatus.Refused, "pds_refused");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new RecordFetch(RecordFetchStatus.Unavailable, "timed out");
        }
        catch (HttpRequestException ex)
        {
            // A PDS on a non-public address is refused by the handler before any connection: that is no outage.
            return ex.HttpRequestError == HttpRequestError.ConnectionError && ex.Message.Contains("non-public", StringComparison.Ordinal)
                ? new RecordFetch(RecordFetchStatus.Refused, "pds_not_public")
                : new RecordFetch(RecordFetchStatus.Unavailable, $"connection failed ({ex.HttpRequestError})");
        }
        catch (IOException)
        {
            return new RecordFetch(RecordFetchStatus.Unavailable, "connection lost");
        }
    }

    /// <summary>The body, or null when it is longer than <paramref name="max"/>.</summary>
    private static async Task<byte[]?> ReadBoundedAsync(HttpContent content, int max, CancellationToken ct)
    {
        await using var stream = await content.ReadAsStreamAsync(ct);
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > max) return null;
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    private static async Task<string?> ErrorNameAsync(HttpContent content, CancellationToken ct)
    {
        var body = await ReadBoundedAsync(content, MaxErrorBytes, ct);
        if (body is null || body.Length == 0) return null;
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("error", out var error)
                && error.ValueKind == JsonValueKind.String ? error.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
