using System.Text.Json;

namespace AtSync.Firehose.Ingest.Jetstream;

/// <summary>
/// One Jetstream v1 <c>/subscribe</c> event as it is on the wire (bluesky-social/jetstream, <c>internal/subscribe/encoder.go</c>):
/// <c>{"did","time_us","kind":"commit|identity|account","commit":{"rev","operation","collection","rkey","record","cid"}}</c>,
/// <c>identity</c> / <c>account</c> carrying the relay's fields (<c>seq</c>, <c>time</c>, <c>handle</c>, <c>active</c>,
/// <c>status</c>). Nothing in it is signed.
/// </summary>
public sealed record JetstreamMessage(
    string Did,
    long TimeUs,
    string Kind,
    JetstreamCommit? Commit,
    string? Handle = null,
    bool? Active = null,
    string? Status = null,
    string? RelayTime = null)
{
    public const string CommitKind = "commit";
    public const string IdentityKind = "identity";
    public const string AccountKind = "account";

    private static readonly JsonDocumentOptions Options = new() { MaxDepth = 64 };

    /// <summary>Reads one event; <see cref="FormatException"/> when a field is missing or of the wrong type.</summary>
    public static JetstreamMessage Parse(ReadOnlyMemory<byte> json)
    {
        using var document = JsonDocument.Parse(json, Options);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw new FormatException("an event is a JSON object");
        var did = RequiredString(root, "did");
        if (!root.TryGetProperty("time_us", out var timeUs) || !timeUs.TryGetInt64(out var time) || time <= 0)
        {
            throw new FormatException("time_us is missing or not a positive integer");
        }
        var kind = RequiredString(root, "kind");
        switch (kind)
        {
            case CommitKind:
                var commit = root.TryGetProperty("commit", out var c) && c.ValueKind == JsonValueKind.Object
                    ? JetstreamCommit.Parse(c)
                    : throw new FormatException("a commit event has no commit object");
                return new JetstreamMessage(did, time, kind, commit);
            case IdentityKind:
                var identity = Object(root, "identity");
                return new JetstreamMessage(did, time, kind, null, Handle: OptionalString(identity, "handle"), RelayTime: OptionalString(identity, "time"));
            case AccountKind:
                var account = Object(root, "account");
                if (!account.TryGetProperty("active", out var active) || active.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                {
                    throw new FormatException("an account event has no boolean active");
                }
                return new JetstreamMessage(did, time, kind, null, Active: active.GetBoolean(), Status: OptionalString(account, "status"),
                    RelayTime: OptionalString(account, "time"));
            default:
                return new JetstreamMessage(did, time, kind, null);
        }
    }

    internal static string RequiredString(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text
            ? text
            : throw new FormatException($"{name} is missing or not a string");

    internal static string? OptionalString(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static JsonElement Object(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Object
            ? value
            : throw new FormatException($"a {name} event has no {name} object");
}

/// <summary>A Jetstream commit: one operation on one record (a relay commit with several ops is several events).</summary>
public sealed record JetstreamCommit(string Rev, string Operation, string Collection, string Rkey, string? Cid, string? RecordJson)
{
    public string Path => $"{Collection}/{Rkey}";

    internal static JetstreamCommit Parse(JsonElement commit)
    {
        var operation = JetstreamMessage.RequiredString(commit, "operation");
        if (operation is not ("create" or "update" or "delete")) throw new FormatException("operation is not create, update or delete");
        string? record = null;
        string? cid = null;
        if (operation != "delete")
        {
            record = commit.TryGetProperty("record", out var value) && value.ValueKind == JsonValueKind.Object
                ? value.GetRawText()
                : throw new FormatException($"a {operation} has no record object");
            cid = JetstreamMessage.RequiredString(commit, "cid");
        }
        return new JetstreamCommit(
            JetstreamMessage.RequiredString(commit, "rev"), operation,
            JetstreamMessage.RequiredString(commit, "collection"), JetstreamMessage.RequiredString(commit, "rkey"), cid, record);
    }
}
