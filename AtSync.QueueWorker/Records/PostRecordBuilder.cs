using System.Globalization;
using System.Text;
using System.Text.Json;

namespace AtSync.QueueWorker.Records;

/// <summary>A phpBB post cannot become a valid <c>net.vza.forum.post</c> record (retrying will not help).</summary>
public sealed class RecordBuildException(string message) : Exception(message);

/// <summary>
/// Builds <c>net.vza.forum.post</c> records (schema in <c>lexicons/net.vza.forum.post.json</c>) from phpBB rows: the
/// BBCode text as its author typed it, <c>createdAt</c> from <c>post_time</c>, <c>forum</c> (strong ref to the board
/// record), <c>subject</c> and <c>topicType</c> on a topic's first post, <c>reply.root</c>/<c>reply.parent</c> on
/// replies (phpBB topics are flat: a reply answers the topic, so both refer to its first post), and the post's
/// BBCode/smilies/signature switches.
/// </summary>
public static class PostRecordBuilder
{
    public const string Collection = "net.vza.forum.post";
    public const int MaxTextBytes = 100_000;
    public const int MaxTextGraphemes = 50_000;
    public const int MaxSubjectBytes = 255;
    public const int MaxSubjectGraphemes = 100;

    public static byte[] Build(PhpbbPost post, StrongRef forum, StrongRef? root)
    {
        ArgumentNullException.ThrowIfNull(post);
        ArgumentNullException.ThrowIfNull(forum);
        if (!post.IsTopicStarter && root is null)
        {
            throw new ArgumentException("A reply needs its topic's first post.", nameof(root));
        }

        var text = PhpbbText.ToBbcode(post.Text, post.BbcodeUid);
        if (Encoding.UTF8.GetByteCount(text) > MaxTextBytes || new StringInfo(text).LengthInTextElements > MaxTextGraphemes)
        {
            throw new RecordBuildException($"post {post.PostId}: text is longer than the record allows ({MaxTextBytes} bytes / {MaxTextGraphemes} graphemes)");
        }

        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("$type", Collection);
            json.WriteString("text", text);
            json.WriteString("createdAt", DateTimeOffset.FromUnixTimeSeconds(post.PostTime).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
            WriteRef(json, "forum", forum);
            if (post.IsTopicStarter)
            {
                json.WriteString("subject", FitSubject(post.Subject));
                json.WriteString("topicType", TopicType(post.TopicType));
            }
            else
            {
                json.WriteStartObject("reply");
                WriteRef(json, "root", root!);
                WriteRef(json, "parent", root!);
                json.WriteEndObject();
            }
            json.WriteBoolean("enableBbcode", post.EnableBbcode);
            json.WriteBoolean("enableSmilies", post.EnableSmilies);
            json.WriteBoolean("enableSignature", post.EnableSignature);
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }

    /// <summary>phpBB's <c>topic_type</c>: POST_NORMAL 0, POST_STICKY 1, POST_ANNOUNCE 2, POST_GLOBAL 3.</summary>
    public static string TopicType(int phpbbTopicType) => phpbbTopicType switch
    {
        1 => "sticky",
        2 => "announcement",
        3 => "global",
        _ => "normal",
    };

    private static void WriteRef(Utf8JsonWriter json, string name, StrongRef reference)
    {
        json.WriteStartObject(name);
        json.WriteString("uri", reference.Uri);
        json.WriteString("cid", reference.Cid);
        json.WriteEndObject();
    }

    /// <summary>phpBB subjects are HTML-escaped in the database; the record carries the text, cut to the lexicon's limits.</summary>
    private static string FitSubject(string subject)
    {
        var text = System.Net.WebUtility.HtmlDecode(subject);
        var info = new StringInfo(text);
        if (info.LengthInTextElements > MaxSubjectGraphemes) text = info.SubstringByTextElements(0, MaxSubjectGraphemes);
        while (Encoding.UTF8.GetByteCount(text) > MaxSubjectBytes)
        {
            info = new StringInfo(text);
            text = info.SubstringByTextElements(0, info.LengthInTextElements - 1);
        }
        return text;
    }
}
