using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace AtSync.AtProto.Xrpc;

/// <summary>
/// A small XRPC client over an injected <see cref="HttpClient"/> (typed-client friendly:
/// <c>services.AddHttpClient&lt;XrpcClient&gt;(c =&gt; c.BaseAddress = pds)</c>). Queries are <c>GET /xrpc/{nsid}</c>,
/// procedures are <c>POST /xrpc/{nsid}</c> with a JSON body. Each call may carry a bearer token; the token is only
/// ever written to the <c>Authorization</c> header of that one request.
/// </summary>
public partial class XrpcClient
{
    /// <summary>Largest response body read (success or error), in bytes.</summary>
    public const int MaxResponseBytes = 16 * 1024 * 1024;

    /// <summary>Longest server error message kept in an exception.</summary>
    public const int MaxErrorMessageChars = 300;

    private static readonly MediaTypeHeaderValue JsonMediaType = new("application/json") { CharSet = "utf-8" };

    private readonly HttpClient _http;
    private readonly TimeProvider _time;
    private readonly Uri? _service;
    private readonly AtSync.AtProto.OAuth.DpopKey? _dpopKey;

    /// <summary>Calls go to <paramref name="httpClient"/>'s <see cref="HttpClient.BaseAddress"/>.</summary>
    public XrpcClient(HttpClient httpClient, TimeProvider? timeProvider = null)
        : this(httpClient, httpClient?.BaseAddress, timeProvider)
    {
    }

    private XrpcClient(HttpClient httpClient, Uri? service, TimeProvider? timeProvider, AtSync.AtProto.OAuth.DpopKey? dpopKey = null)
    {
        _dpopKey = dpopKey;
        ArgumentNullException.ThrowIfNull(httpClient);
        if (service is not null && (!service.IsAbsoluteUri || (service.Scheme != Uri.UriSchemeHttp && service.Scheme != Uri.UriSchemeHttps)))
        {
            throw new ArgumentException("The XRPC service must be an absolute http(s) URL.", nameof(service));
        }
        _http = httpClient;
        _service = service;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>The service (PDS, AppView, …) calls go to; null when neither given nor set on the HttpClient.</summary>
    public Uri? Service => _service;

    /// <summary>A client for another service (e.g. a user's own PDS) sharing this one's HttpClient.</summary>
    public XrpcClient WithService(Uri service)
    {
        ArgumentNullException.ThrowIfNull(service);
        return new XrpcClient(_http, service, _time, _dpopKey);
    }

    /// <summary>
    /// A client whose tokens are DPoP-bound to <paramref name="dpopKey"/>: they go out as <c>Authorization: DPoP …</c>
    /// and the HttpClient's <see cref="AtSync.AtProto.OAuth.DpopHandler"/> signs each request's proof.
    /// </summary>
    public XrpcClient WithDpop(AtSync.AtProto.OAuth.DpopKey dpopKey)
    {
        ArgumentNullException.ThrowIfNull(dpopKey);
        return new XrpcClient(_http, _service, _time, dpopKey);
    }

    /// <summary>GET <c>/xrpc/{nsid}</c> with query parameters; the JSON output is decoded with <paramref name="outputType"/>.</summary>
    /// <param name="parameters">Query parameters; null values are left out, repeated keys give arrays.</param>
    /// <param name="bearerToken">Optional access (or refresh) JWT sent as <c>Authorization: Bearer …</c>.</param>
    public async Task<XrpcResponse<TOut>> QueryAsync<TOut>(
        string nsid,
        IEnumerable<KeyValuePair<string, string?>>? parameters,
        JsonTypeInfo<TOut> outputType,
        string? bearerToken = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(outputType);
        var raw = await SendAsync(HttpMethod.Get, nsid, parameters, content: null, bearerToken, cancellationToken).ConfigureAwait(false);
        return Decode(nsid, raw, outputType, bearerToken);
    }

    /// <summary>POST <c>/xrpc/{nsid}</c> with <paramref name="input"/> as the JSON body.</summary>
    public async Task<XrpcResponse<TOut>> ProcedureAsync<TIn, TOut>(
        string nsid,
        TIn input,
        JsonTypeInfo<TIn> inputType,
        JsonTypeInfo<TOut> outputType,
        string? bearerToken = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputType);
        ArgumentNullException.ThrowIfNull(outputType);
        var body = JsonSerializer.SerializeToUtf8Bytes(input, inputType);
        var raw = await SendAsync(HttpMethod.Post, nsid, null, JsonContent(body), bearerToken, cancellationToken).ConfigureAwait(false);
        return Decode(nsid, raw, outputType, bearerToken);
    }

    /// <summary>
    /// POST <c>/xrpc/{nsid}</c> with an already-encoded UTF-8 JSON body (or none). The output is returned as raw
    /// bytes (empty when the server sent no body) for the caller to decode.
    /// </summary>
    public async Task<XrpcResponse<ReadOnlyMemory<byte>>> ProcedureAsync(
        string nsid,
        ReadOnlyMemory<byte>? utf8JsonInput,
        string? bearerToken = null,
        CancellationToken cancellationToken = default)
    {
        var content = utf8JsonInput is { } body ? JsonContent(body) : null;
        var raw = await SendAsync(HttpMethod.Post, nsid, null, content, bearerToken, cancellationToken).ConfigureAwait(false);
        return new XrpcResponse<ReadOnlyMemory<byte>>(raw.Body, raw.Status, raw.RateLimit);
    }

    private static ReadOnlyMemoryContent JsonContent(ReadOnlyMemory<byte> body)
    {
        var content = new ReadOnlyMemoryContent(body);
        content.Headers.ContentType = JsonMediaType;
        return content;
    }

    private XrpcResponse<TOut> Decode<TOut>(string nsid, RawResponse raw, JsonTypeInfo<TOut> outputType, string? bearerToken)
    {
        TOut? value;
        try
        {
            value = raw.Body.Length == 0 ? default : JsonSerializer.Deserialize(raw.Body.Span, outputType);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or NotSupportedException)
        {
            throw new XrpcException(XrpcErrorKind.InvalidResponse, nsid, raw.Status, XrpcException.InvalidResponseError,
                Sanitize("malformed JSON output: " + ex.Message, bearerToken), raw.RateLimit, ex);
        }
        if (value is null)
        {
            throw new XrpcException(XrpcErrorKind.InvalidResponse, nsid, raw.Status, XrpcException.InvalidResponseError,
                "the response had no JSON output", raw.RateLimit);
        }
        return new XrpcResponse<TOut>(value, raw.Status, raw.RateLimit);
    }

    private readonly record struct RawResponse(ReadOnlyMemory<byte> Body, HttpStatusCode Status, RateLimitInfo? RateLimit);

    private async Task<RawResponse> SendAsync(
        HttpMethod method,
        string nsid,
        IEnumerable<KeyValuePair<string, string?>>? parameters,
        HttpContent? content,
        string? bearerToken,
        CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, BuildUri(nsid, parameters)) { Content = content };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (bearerToken is not null)
        {
            if (bearerToken.Length == 0 || bearerToken.Any(c => c <= ' ' || c >= 0x7f))
            {
                // Never echo the value.
                throw new ArgumentException("The bearer token is empty or has characters not allowed in a header.", nameof(bearerToken));
            }
            if (_dpopKey is not null)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue(AtSync.AtProto.OAuth.DpopHandler.AuthorizationScheme, bearerToken);
                request.Options.Set(AtSync.AtProto.OAuth.DpopHandler.KeyOption, _dpopKey);
            }
            else
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearerToken);
            }
        }

        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            // HttpClient.Timeout (or a handler's timeout) elapsed; the caller did not cancel.
            throw new XrpcException(XrpcErrorKind.Timeout, nsid, null, XrpcException.TimeoutError, "no response before the HTTP timeout", null, ex);
        }
        catch (HttpRequestException ex)
        {
            throw Transport(nsid, ex, bearerToken);
        }
        catch (Exception ex) when (IsResilienceRejection(ex, out var timedOut))
        {
            // A resilience handler (Polly: attempt/total timeout, open circuit breaker, rate limiter) gave up
            // before a response arrived.
            throw timedOut
                ? new XrpcException(XrpcErrorKind.Timeout, nsid, null, XrpcException.TimeoutError, "the resilience pipeline timed out", null, ex)
                : new XrpcException(XrpcErrorKind.Transport, nsid, null, XrpcException.TransportError, Sanitize(ex.GetType().Name, bearerToken), null, ex);
        }

        using (response)
        {
            var now = _time.GetUtcNow();
            var rateLimit = RateLimitInfo.FromHeaders(response.Headers, now);
            var status = response.StatusCode;
            byte[] body;
            try
            {
                var limit = response.IsSuccessStatusCode ? MaxResponseBytes : 64 * 1024;
                var (bytes, complete) = await ReadBoundedAsync(response.Content, limit, cancellationToken).ConfigureAwait(false);
                if (!complete && response.IsSuccessStatusCode)
                {
                    throw new XrpcException(XrpcErrorKind.InvalidResponse, nsid, status, XrpcException.InvalidResponseError,
                        $"the response is larger than {MaxResponseBytes} bytes", rateLimit);
                }
                body = bytes;
            }
            catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
            {
                throw new XrpcException(XrpcErrorKind.Timeout, nsid, status, XrpcException.TimeoutError, "timed out reading the response", rateLimit, ex);
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException)
            {
                throw Transport(nsid, ex, bearerToken, status, rateLimit);
            }

            if (!response.IsSuccessStatusCode)
            {
                throw ErrorFromBody(nsid, status, body, response.Content.Headers.ContentType?.MediaType, rateLimit, bearerToken);
            }
            return new RawResponse(body, status, rateLimit);
        }
    }

    private static XrpcException Transport(string nsid, Exception ex, string? bearerToken, HttpStatusCode? status = null, RateLimitInfo? rateLimit = null)
    {
        var detail = ex is HttpRequestException { HttpRequestError: var kind } && kind != HttpRequestError.Unknown
            ? kind.ToString()
            : FindSocketError(ex)?.ToString() ?? ex.GetType().Name;
        return new XrpcException(XrpcErrorKind.Transport, nsid, status, XrpcException.TransportError, Sanitize(detail, bearerToken), rateLimit, ex);
    }

    /// <summary>
    /// Recognizes Polly's <c>ExecutionRejectedException</c> family (thrown by <c>AddStandardResilienceHandler</c>)
    /// and <see cref="TimeoutException"/> without taking a dependency on Polly.
    /// </summary>
    private static bool IsResilienceRejection(Exception ex, out bool timedOut)
    {
        timedOut = ex is TimeoutException || ex.GetType().Name.Contains("Timeout", StringComparison.Ordinal);
        if (ex is TimeoutException)
        {
            return true;
        }
        for (var type = ex.GetType(); type is not null; type = type.BaseType)
        {
            if (type.Name == "ExecutionRejectedException" && type.Namespace?.StartsWith("Polly", StringComparison.Ordinal) == true)
            {
                return true;
            }
        }
        return false;
    }

    private static SocketError? FindSocketError(Exception? ex)
    {
        for (; ex is not null; ex = ex.InnerException)
        {
            if (ex is SocketException s)
            {
                return s.SocketErrorCode;
            }
        }
        return null;
    }

    private static XrpcException ErrorFromBody(string nsid, HttpStatusCode status, byte[] body, string? mediaType, RateLimitInfo? rateLimit, string? bearerToken)
    {
        string? error = null;
        string? message = null;
        var wasJson = false;
        if (body.Length > 0 && (mediaType is null || mediaType.Contains("json", StringComparison.OrdinalIgnoreCase)))
        {
            try
            {
                using var doc = JsonDocument.Parse(body);
                wasJson = true;
                if (doc.RootElement.ValueKind == JsonValueKind.Object)
                {
                    if (doc.RootElement.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.String)
                    {
                        error = e.GetString();
                    }
                    if (doc.RootElement.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String)
                    {
                        message = m.GetString();
                    }
                }
            }
            catch (Exception ex) when (ex is JsonException or InvalidOperationException)
            {
                // Not JSON after all (or strings that are not UTF-8); handled below as a plain HTTP error.
                error = null;
                message = null;
            }
        }

        if (error is not null && IsErrorName(error))
        {
            return new XrpcException(XrpcErrorKind.ServerError, nsid, status, error, Sanitize(message, bearerToken), rateLimit);
        }

        // No usable {error}: an HTML page from a proxy, plain text, or an empty body.
        message ??= body.Length == 0 || wasJson ? null : DescribeNonJson(body);
        var reason = $"HTTP {(int)status}";
        return new XrpcException(XrpcErrorKind.ServerError, nsid, status, XrpcException.HttpError,
            Sanitize(message is null ? reason : $"{reason}: {message}", bearerToken), rateLimit);
    }

    private static bool IsErrorName(string error) =>
        error.Length is > 0 and <= 128 && error.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' or ':');

    private static string DescribeNonJson(byte[] body)
    {
        var text = Encoding.UTF8.GetString(body, 0, Math.Min(body.Length, 8 * 1024));
        // Prefer an HTML <title>; otherwise strip tags.
        var start = text.IndexOf("<title>", StringComparison.OrdinalIgnoreCase);
        if (start >= 0)
        {
            var end = text.IndexOf("</title>", start, StringComparison.OrdinalIgnoreCase);
            if (end > start)
            {
                return text[(start + 7)..end];
            }
        }
        var sb = new StringBuilder(Math.Min(text.Length, 1024));
        var inTag = false;
        foreach (var c in text)
        {
            if (c == '<') { inTag = true; sb.Append(' '); continue; }
            if (c == '>') { inTag = false; continue; }
            if (!inTag) { sb.Append(c); }
            if (sb.Length > MaxErrorMessageChars * 2) { break; }
        }
        return sb.ToString();
    }

    /// <summary>Collapses whitespace, drops control characters, redacts the token, truncates.</summary>
    internal static string? Sanitize(string? text, string? bearerToken)
    {
        if (string.IsNullOrEmpty(text))
        {
            return text;
        }
        if (!string.IsNullOrEmpty(bearerToken))
        {
            text = text.Replace(bearerToken, "[redacted]", StringComparison.Ordinal);
        }
        var sb = new StringBuilder(Math.Min(text.Length, MaxErrorMessageChars + 1));
        var space = false;
        foreach (var c in text)
        {
            if (char.IsWhiteSpace(c) || char.IsControl(c))
            {
                space = sb.Length > 0;
                continue;
            }
            if (space) { sb.Append(' '); space = false; }
            sb.Append(c);
            if (sb.Length >= MaxErrorMessageChars)
            {
                sb.Append('…');
                break;
            }
        }
        return sb.ToString();
    }

    private static async Task<(byte[] Bytes, bool Complete)> ReadBoundedAsync(HttpContent content, int limit, CancellationToken ct)
    {
        if (content.Headers.ContentLength is { } declared && declared > limit)
        {
            return ([], false);
        }
        await using var stream = await content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            using var ms = new MemoryStream();
            while (true)
            {
                var n = await stream.ReadAsync(buffer.AsMemory(), ct).ConfigureAwait(false);
                if (n == 0)
                {
                    return (ms.ToArray(), true);
                }
                if (ms.Length + n > limit)
                {
                    ms.Write(buffer, 0, (int)(limit - ms.Length));
                    return (ms.ToArray(), false);
                }
                ms.Write(buffer, 0, n);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private Uri BuildUri(string nsid, IEnumerable<KeyValuePair<string, string?>>? parameters)
    {
        if (!AtSync.AtProto.Syntax.Nsid.IsValid(nsid))
        {
            throw new ArgumentException($"'{nsid}' is not a valid NSID.", nameof(nsid));
        }
        var service = _service ?? throw new InvalidOperationException(
            "The XRPC client has no service URL: set HttpClient.BaseAddress or use WithService(uri).");
        var sb = new StringBuilder(service.GetLeftPart(UriPartial.Path).TrimEnd('/'));
        sb.Append("/xrpc/").Append(nsid);
        if (parameters is not null)
        {
            var first = true;
            foreach (var (key, value) in parameters)
            {
                if (value is null)
                {
                    continue;
                }
                ArgumentException.ThrowIfNullOrEmpty(key, nameof(parameters));
                sb.Append(first ? '?' : '&').Append(Uri.EscapeDataString(key)).Append('=').Append(Uri.EscapeDataString(value));
                first = false;
            }
        }
        return new Uri(sb.ToString(), UriKind.Absolute);
    }
}
