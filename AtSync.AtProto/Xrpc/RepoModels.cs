using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace AtSync.AtProto.Xrpc;

/// <summary>Input of <c>com.atproto.repo.createRecord</c>.</summary>
public sealed record CreateRecordInput
{
    /// <summary>The repository (DID or handle) to write to.</summary>
    public required string Repo { get; init; }

    public required string Collection { get; init; }

    /// <summary>Record key; the PDS picks a TID when null.</summary>
    public string? Rkey { get; init; }

    /// <summary>Lexicon validation: null lets the PDS decide (validates known lexicons only).</summary>
    public bool? Validate { get; init; }

    /// <summary>The record, as JSON (an object with <c>$type</c>). See <see cref="XrpcRecord"/> for conversions.</summary>
    public required JsonElement Record { get; init; }

    /// <summary>Fails with <c>InvalidSwap</c> unless the repo's current commit has this CID.</summary>
    public string? SwapCommit { get; init; }
}

/// <summary>Input of <c>com.atproto.repo.putRecord</c>.</summary>
public sealed record PutRecordInput
{
    public required string Repo { get; init; }

    public required string Collection { get; init; }

    public required string Rkey { get; init; }

    public bool? Validate { get; init; }

    public required JsonElement Record { get; init; }

    /// <summary>Fails with <c>InvalidSwap</c> unless the current record has this CID.</summary>
    public string? SwapRecord { get; init; }

    public string? SwapCommit { get; init; }
}

/// <summary>Input of <c>com.atproto.repo.deleteRecord</c>.</summary>
public sealed record DeleteRecordInput
{
    public required string Repo { get; init; }

    public required string Collection { get; init; }

    public required string Rkey { get; init; }

    public string? SwapRecord { get; init; }

    public string? SwapCommit { get; init; }
}

/// <summary>The commit a write landed in.</summary>
public sealed record CommitMeta(string Cid, string Rev);

/// <summary>Output of <c>createRecord</c> / <c>putRecord</c>: the record's AT-URI and CID.</summary>
public sealed record RecordWriteOutput
{
    public required string Uri { get; init; }

    public required string Cid { get; init; }

    public CommitMeta? Commit { get; init; }

    /// <summary><c>valid</c> or <c>unknown</c> when reported.</summary>
    public string? ValidationStatus { get; init; }
}

/// <summary>Output of <c>deleteRecord</c> (older servers send no body: <see cref="Commit"/> is then null).</summary>
public sealed record DeleteRecordOutput
{
    public CommitMeta? Commit { get; init; }
}

/// <summary>Input of <c>com.atproto.server.createSession</c>. Holds a secret: <see cref="ToString"/> leaves the password out.</summary>
public sealed record CreateSessionInput(string Identifier, string Password)
{
    public override string ToString() => $"CreateSessionInput {{ Identifier = {Identifier}, Password = [redacted] }}";
}

/// <summary>Output of <c>com.atproto.identity.resolveHandle</c>.</summary>
public sealed record ResolveHandleOutput(string Did);

/// <summary>
/// Output of <c>com.atproto.server.refreshSession</c> / <c>createSession</c>. Holds secrets:
/// <see cref="ToString"/> never shows the JWTs.
/// </summary>
public sealed class SessionOutput
{
    public required string AccessJwt { get; init; }

    public required string RefreshJwt { get; init; }

    public required string Handle { get; init; }

    public required string Did { get; init; }

    public bool? Active { get; init; }

    /// <summary>Account status when not active (<c>takendown</c>, <c>suspended</c>, <c>deactivated</c>).</summary>
    public string? Status { get; init; }

    /// <summary>The DID document, when the server includes it.</summary>
    public JsonElement? DidDoc { get; init; }

    public override string ToString() => $"SessionOutput {{ Did = {Did}, Handle = {Handle}, Active = {Active}, AccessJwt = [redacted], RefreshJwt = [redacted] }}";
}

/// <summary>Conversions of record JSON (as the queue stores it) into the <see cref="JsonElement"/> the inputs carry.</summary>
public static class XrpcRecord
{
    /// <summary>Parses UTF-8 JSON text of a record (must be exactly one JSON object). Throws <see cref="JsonException"/> on malformed JSON.</summary>
    public static JsonElement FromUtf8(ReadOnlySpan<byte> utf8Json)
    {
        var reader = new Utf8JsonReader(utf8Json, new JsonReaderOptions { MaxDepth = 128 });
        using var doc = JsonDocument.ParseValue(ref reader);
        if (doc.RootElement.ValueKind != JsonValueKind.Object)
        {
            throw new ArgumentException("A record must be a JSON object.", nameof(utf8Json));
        }
        // ParseValue stops after one value: only whitespace may follow.
        if (reader.Read())
        {
            throw new ArgumentException("Record JSON has trailing content.", nameof(utf8Json));
        }
        return doc.RootElement.Clone();
    }

    /// <summary>Parses JSON text of a record (must be a JSON object).</summary>
    public static JsonElement FromJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        return FromUtf8(System.Text.Encoding.UTF8.GetBytes(json));
    }

    /// <summary>Converts a <see cref="JsonNode"/> record (must be a JSON object).</summary>
    public static JsonElement FromNode(JsonNode record)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (record is not JsonObject)
        {
            throw new ArgumentException("A record must be a JSON object.", nameof(record));
        }
        return JsonSerializer.SerializeToElement(record, XrpcJsonContext.Default.JsonNode);
    }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(CreateRecordInput))]
[JsonSerializable(typeof(PutRecordInput))]
[JsonSerializable(typeof(DeleteRecordInput))]
[JsonSerializable(typeof(RecordWriteOutput))]
[JsonSerializable(typeof(DeleteRecordOutput))]
[JsonSerializable(typeof(ResolveHandleOutput))]
[JsonSerializable(typeof(SessionOutput))]
[JsonSerializable(typeof(CreateSessionInput))]
[JsonSerializable(typeof(JsonNode))]
[JsonSerializable(typeof(JsonElement))]
public partial class XrpcJsonContext : JsonSerializerContext;
