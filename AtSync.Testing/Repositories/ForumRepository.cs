using System.Globalization;
using AtSync.AtProto.Car;
using AtSync.AtProto.Cids;
using AtSync.AtProto.Crypto;
using AtSync.AtProto.Mst;
using AtSync.AtProto.Syntax;
using AtSync.Core.Forum;
using AtSync.Testing.Synthetic;
using Wire = AtSync.AtProto.EventStream;

namespace AtSync.Testing.Repositories;

/// <summary>
/// A generated AT repository of <c>net.vza.forum.post</c> records, built with the project's own MST, DAG-CBOR and CAR
/// writers and signed with its key: the whole repository as <c>getRepo</c> serves it (<see cref="ExportCar"/>), and
/// sync 1.1 <c>#commit</c> frames that continue it (<c>since</c>, <c>prevData</c>, each op's <c>prev</c>, the commit,
/// tree and new records in the CAR). Revs are TIDs from the repository's own clock, so they only grow.
/// </summary>
public sealed class ForumRepository(string did, SigningKey key, StrongRef board, DateTimeOffset start) : IDisposable
{
    private readonly Dictionary<Cid, byte[]> _records = [];
    private readonly Dictionary<string, ForumPostRecord> _posts = new(StringComparer.Ordinal);
    private readonly MstTree _tree = MstTree.Create();
    private DateTimeOffset _clock = start;
    private bool _changed;

    public string Did { get; } = did;

    public SigningKey Key { get; } = key;

    /// <summary>The board every post is in (a strong ref to the forum's board record).</summary>
    public StrongRef Board { get; } = board;

    /// <summary>The rev of the last commit (empty before the first).</summary>
    public string Rev { get; private set; } = "";

    public Cid Data => _tree.RootCid();

    public int Count => _tree.Walk().Count();

    /// <summary>The CID of the post at <paramref name="rkey"/>, or null.</summary>
    public Cid? Get(string rkey) => _tree.Get(Path(rkey));

    public string Uri(string rkey) => $"at://{Did}/{ForumLexicon.Post}/{rkey}";

    /// <summary>The next record key (a TID from the repository's clock).</summary>
    public string NextRkey() => Tid.FromParts(Tick().ToUnixTimeMilliseconds() * 1000, 7).ToString();

    /// <summary>A new topic's first post.</summary>
    public ForumPostRecord Topic(string subject, string text) => new(text, Stamp(), Board, subject, null, null, null);

    /// <summary>A reply in the topic whose first post is <paramref name="rootRkey"/>.</summary>
    public ForumPostRecord Reply(string rootRkey, string text)
    {
        var root = new StrongRef(Uri(rootRkey), (Get(rootRkey) ?? throw new InvalidOperationException($"{rootRkey} is not in the repository")).ToString());
        return new ForumPostRecord(text, Stamp(), Board, null, root, root, null);
    }

    /// <summary>The post at <paramref name="rkey"/> edited: new text (and subject), the same <c>createdAt</c>, board and thread.</summary>
    public ForumPostRecord Edit(string rkey, string text, string? subject = null)
    {
        var post = _posts.GetValueOrDefault(rkey) ?? throw new InvalidOperationException($"{rkey} is not in the repository");
        return post with { Text = text, Subject = post.IsReply ? null : subject ?? post.Subject };
    }

    /// <summary>Writes (or replaces) a post without a commit event (filling the repository before the interesting part).</summary>
    public Cid Put(string rkey, ForumPostRecord post)
    {
        _posts[rkey] = post;
        var cid = Store(post);
        _tree.Insert(Path(rkey), cid);
        _changed = true;
        return cid;
    }

    /// <summary>Removes a post without a commit event.</summary>
    public void Remove(string rkey)
    {
        if (_tree.Remove(Path(rkey)) is null) throw new InvalidOperationException($"{rkey} is not in the repository");
        _changed = true;
    }

    /// <summary>
    /// Fills the repository with <paramref name="topics"/> topics of 1 + <paramref name="repliesPerTopic"/> posts each;
    /// returns the record keys of the topics' first posts, in order.
    /// </summary>
    public IReadOnlyList<string> Generate(int topics, int repliesPerTopic, string label = "post")
    {
        var roots = new List<string>(topics);
        for (var t = 0; t < topics; t++)
        {
            var root = NextRkey();
            Put(root, Topic($"{label} topic {t}", $"[b]{label}[/b] topic {t} opens"));
            roots.Add(root);
            for (var r = 0; r < repliesPerTopic; r++) Put(NextRkey(), Reply(root, $"{label} reply {r} in topic {t}"));
        }
        return roots;
    }

    /// <summary>
    /// The whole repository as <c>com.atproto.sync.getRepo</c> serves it: a CAR rooted at a signed commit of the current
    /// tree (a new rev when it changed since the last commit or export).
    /// </summary>
    public byte[] ExportCar()
    {
        if (Rev.Length == 0 || _changed) Rev = NextRev();
        _changed = false;
        var (commitCid, commitBytes) = SignCommit(Data, Rev);
        var blocks = new List<CarBlock> { new(commitCid, commitBytes) };
        blocks.AddRange(_tree.Blocks());
        blocks.AddRange(_tree.Walk().Select(l => l.Value).Distinct().Select(cid => new CarBlock(cid, _records[cid])));
        return CarWriter.Write([commitCid], blocks);
    }

    /// <summary>
    /// A signed sync 1.1 <c>#commit</c> frame applying <paramref name="changes"/> (record key → new post, or null to
    /// delete) at sequence number <paramref name="seq"/>; the repository moves on to it.
    /// </summary>
    public byte[] Commit(long seq, params (string Rkey, ForumPostRecord? Post)[] changes)
    {
        var prevData = Data;
        var since = Rev.Length > 0 ? Rev : null;
        var ops = new List<Wire.RepoOp>();
        var newRecords = new List<CarBlock>();
        foreach (var (rkey, post) in changes)
        {
            if (post is null)
            {
                var prev = _tree.Remove(Path(rkey)) ?? throw new InvalidOperationException($"{rkey} is not in the repository");
                ops.Add(new Wire.RepoOp(Wire.RepoAction.Delete, Path(rkey), null, prev));
            }
            else
            {
                _posts[rkey] = post;
                var cid = Store(post);
                var prev = _tree.Insert(Path(rkey), cid);
                ops.Add(new Wire.RepoOp(prev is null ? Wire.RepoAction.Create : Wire.RepoAction.Update, Path(rkey), cid, prev));
                newRecords.Add(new CarBlock(cid, _records[cid]));
            }
        }
        Rev = NextRev();
        _changed = false;
        var (commitCid, commitBytes) = SignCommit(Data, Rev);
        var blocks = new List<CarBlock> { new(commitCid, commitBytes) };
        blocks.AddRange(_tree.Blocks());
        blocks.AddRange(newRecords);
        return Wire.FrameEncoder.Encode(new Wire.CommitEvent
        {
            Seq = seq,
            Repo = Did,
            Commit = commitCid,
            Rev = Rev,
            Since = since,
            Blocks = CarReader.Read(CarWriter.Write([commitCid], blocks), new CarReadOptions { MaxCarLength = int.MaxValue, MaxBlocks = int.MaxValue }),
            Ops = ops,
            PrevData = prevData,
            Time = ForumFrameFactory.Format(_clock),
        });
    }

    private Cid Store(ForumPostRecord post)
    {
        var bytes = ForumFrameFactory.PostRecord(post);
        var cid = Cid.ForDagCbor(bytes);
        _records[cid] = bytes;
        return cid;
    }

    private (Cid Cid, byte[] Bytes) SignCommit(Cid data, string rev)
    {
        var unsigned = Wire.CommitBlock.Encode(Did, 3, data, rev, null, default, signed: false);
        var bytes = Wire.CommitBlock.Encode(Did, 3, data, rev, null, Key.Sign(unsigned));
        return (Cid.ForDagCbor(bytes), bytes);
    }

    private string NextRev() => Tid.FromParts(Tick().ToUnixTimeMilliseconds() * 1000, 3).ToString();

    private string Stamp() => Tick().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private DateTimeOffset Tick() => _clock = _clock.AddMilliseconds(1);

    private static string Path(string rkey) => $"{ForumLexicon.Post}/{rkey}";

    public void Dispose() => Key.Dispose();
}
