using System.Globalization;
using System.Text;
using AtSync.Core.Forum;
using AtSync.Core.Forum.Text;

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
    public static byte[] Build(PhpbbPost post, StrongRef forum, StrongRef? root) => ForumPostRecordJson.ToUtf8(Record(post, forum, root));

    public static ForumPostRecord Record(PhpbbPost post, StrongRef forum, StrongRef? root)
    {
        ArgumentNullException.ThrowIfNull(post);
        ArgumentNullException.ThrowIfNull(forum);
        if (!post.IsTopicStarter && root is null)
        {
            throw new ArgumentException("A reply needs its topic's first post.", nameof(root));
        }

        var text = PhpbbText.ToBbcode(post.Text, post.BbcodeUid);
        if (Encoding.UTF8.GetByteCount(text) > ForumLexicon.MaxTextBytes || new StringInfo(text).LengthInTextElements > ForumLexicon.MaxTextGraphemes)
        {
            throw new RecordBuildException($"post {post.PostId}: text is longer than the record allows ({ForumLexicon.MaxTextBytes} bytes / {ForumLexicon.MaxTextGraphemes} graphemes)");
        }

        var createdAt = DateTimeOffset.FromUnixTimeSeconds(post.PostTime).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        return post.IsTopicStarter
            ? new ForumPostRecord(text, createdAt, forum, FitSubject(post.Subject), null, null, ForumTopicType.FromPhpbb(post.TopicType),
                post.EnableBbcode, post.EnableSmilies, post.EnableSignature)
            : new ForumPostRecord(text, createdAt, forum, null, root, root, null, post.EnableBbcode, post.EnableSmilies, post.EnableSignature);
    }

    /// <summary>phpBB subjects are HTML-escaped in the database; the record carries the text, cut to the lexicon's limits.</summary>
    private static string FitSubject(string subject)
    {
        var text = System.Net.WebUtility.HtmlDecode(subject);
        var info = new StringInfo(text);
        if (info.LengthInTextElements > ForumLexicon.MaxSubjectGraphemes) text = info.SubstringByTextElements(0, ForumLexicon.MaxSubjectGraphemes);
        while (Encoding.UTF8.GetByteCount(text) > ForumLexicon.MaxSubjectBytes)
        {
            info = new StringInfo(text);
            text = info.SubstringByTextElements(0, info.LengthInTextElements - 1);
        }
        return text;
    }
}
