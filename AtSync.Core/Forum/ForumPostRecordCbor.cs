using AtSync.AtProto.DagCbor;

namespace AtSync.Core.Forum;

/// <summary>Reads a <c>net.vza.forum.post</c> record from its DAG-CBOR value (a commit's record block).</summary>
public static class ForumPostRecordCbor
{
    /// <summary>
    /// Reads the record; a missing or malformed required field is reported in <paramref name="problem"/>, not thrown
    /// (the value comes from the network). Boolean switches default to true as the lexicon says.
    /// </summary>
    public static bool TryRead(DagCborValue value, out ForumPostRecord? post, out string? problem)
    {
        post = null;
        problem = Read(value, ref post);
        return problem is null;
    }

    private static string? Read(DagCborValue value, ref ForumPostRecord? post)
    {
        if (value.Kind != DagCborKind.Map) return "record is not a map";
        var map = value.AsMap();
        if (map.TryGetString("$type"u8, out var type) && type != ForumLexicon.Post) return $"record $type is {type}";
        if (!map.TryGetString("text"u8, out var text)) return "record has no text";
        if (!map.TryGetMap("forum"u8, out var forumMap) || StrongRefOf(forumMap) is not { } forum) return "record has no forum reference";
        map.TryGetString("createdAt"u8, out var createdAt);
        var subject = map.TryGetString("subject"u8, out var s) ? s : null;
        StrongRef? root = null, parent = null;
        if (map.TryGetMap("reply"u8, out var reply))
        {
            root = reply.TryGetMap("root"u8, out var rootMap) ? StrongRefOf(rootMap) : null;
            parent = reply.TryGetMap("parent"u8, out var parentMap) ? StrongRefOf(parentMap) : null;
            if (root is null) return "reply has no root reference";
        }
        var topicType = map.TryGetString("topicType"u8, out var tt) ? tt : null;
        post = new ForumPostRecord(text, createdAt.Length > 0 ? createdAt : null, forum, subject, root, parent, topicType,
            Flag(map, "enableBbcode"u8), Flag(map, "enableSmilies"u8), Flag(map, "enableSignature"u8));
        return null;
    }

    private static bool Flag(DagCborMap map, ReadOnlySpan<byte> key) =>
        !map.TryGetValue(key, out var value) || value.Kind != DagCborKind.Boolean || value.AsBoolean();

    private static StrongRef? StrongRefOf(DagCborMap map) =>
        map.TryGetString("uri"u8, out var uri) && uri.StartsWith("at://", StringComparison.Ordinal) && map.TryGetString("cid"u8, out var cid)
            ? new StrongRef(uri, cid)
            : null;
}
