using System.Text.Json;

namespace AtSync.Core.Forum;

/// <summary>
/// Writes a <c>net.vza.forum.post</c> record as the JSON a PDS's <c>createRecord</c>/<c>putRecord</c> takes:
/// <c>$type</c>, <c>text</c>, <c>createdAt</c>, <c>forum</c>, then <c>subject</c>/<c>topicType</c> when present,
/// <c>reply</c> on replies (<c>parent</c> defaults to <c>root</c>), and the three switches.
/// </summary>
public static class ForumPostRecordJson
{
    public static byte[] ToUtf8(ForumPostRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            Write(json, record);
        }
        return buffer.ToArray();
    }

    public static void Write(Utf8JsonWriter json, ForumPostRecord record)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(record);
        json.WriteStartObject();
        json.WriteString("$type", ForumLexicon.Post);
        json.WriteString("text", record.Text);
        if (record.CreatedAt is { } createdAt) json.WriteString("createdAt", createdAt);
        WriteRef(json, "forum", record.Forum);
        if (record.Subject is { } subject) json.WriteString("subject", subject);
        if (record.TopicType is { } topicType) json.WriteString("topicType", topicType);
        if (record.ReplyRoot is { } root)
        {
            json.WriteStartObject("reply");
            WriteRef(json, "root", root);
            WriteRef(json, "parent", record.ReplyParent ?? root);
            json.WriteEndObject();
        }
        json.WriteBoolean("enableBbcode", record.EnableBbcode);
        json.WriteBoolean("enableSmilies", record.EnableSmilies);
        json.WriteBoolean("enableSignature", record.EnableSignature);
        json.WriteEndObject();
    }

    private static void WriteRef(Utf8JsonWriter json, string name, StrongRef reference)
    {
        json.WriteStartObject(name);
        json.WriteString("uri", reference.Uri);
        json.WriteString("cid", reference.Cid);
        json.WriteEndObject();
    }
}
