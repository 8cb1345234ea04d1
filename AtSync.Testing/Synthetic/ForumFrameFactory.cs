using System.Globalization;
using AtSync.AtProto.Car;
using AtSync.AtProto.Cids;
using AtSync.AtProto.Crypto;
using AtSync.AtProto.DagCbor;
using AtSync.AtProto.Mst;
using AtSync.AtProto.Syntax;
using AtSync.Core.Forum;
using Wire = AtSync.AtProto.EventStream;

namespace AtSync.Testing.Synthetic;

/// <summary>
/// Builds real subscribeRepos / subscribeLabels frames, as a relay or labeler sends them: sync 1.1 <c>#commit</c>s of a
/// real repository per DID (an MST kept by the factory: ops with their <c>prev</c> CIDs, <c>prevData</c>, <c>since</c>,
/// a CAR of the signed commit, the tree's nodes and the new records, all under their computed CIDs), <c>#sync</c>, plus
/// identity, account, info, error and label frames. Commits of one DID must be built in the order they are sent (each
/// follows the previous one). For tests, loopback peers, capture files and the benchmark's synthetic streams.
/// </summary>
public sealed class ForumFrameFactory(SigningKey signingKey) : IDisposable
{
    private readonly Dictionary<string, RepoChain> _repos = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <summary>One DID's repository as far as this factory built it: its tree and the last commit's rev.</summary>
    private sealed class RepoChain
    {
        public MstTree Tree { get; } = MstTree.Create();
        public string? Rev { get; set; }
    }

    public static readonly string PostCollection = ForumLexicon.Post;

    public SigningKey SigningKey => signingKey;

    /// <summary>The frame bytes and the CID (string) of the record it carries (null for deletes).</summary>
    public sealed record BuiltCommit(byte[] Frame, string? RecordCid, string Uri);

    public static ForumFrameFactory Create() => new(SigningKey.Generate(KeyCurve.Secp256k1));

    /// <summary>A <c>net.vza.forum.post</c> record as DAG-CBOR.</summary>
    public static byte[] PostRecord(ForumPostRecord post)
    {
        var entries = new List<(string, DagCborValue)>
        {
            ("$type", DagCborValue.FromString(PostCollection)),
            ("text", DagCborValue.FromString(post.Text)),
            ("createdAt", DagCborValue.FromString(post.CreatedAt ?? "2026-01-01T00:00:00.000Z")),
            ("forum", Ref(post.Forum)),
        };
        if (post.Subject is not null) entries.Add(("subject", DagCborValue.FromString(post.Subject)));
        if (post.ReplyRoot is not null)
        {
            entries.Add(("reply", DagCborValue.FromMap(DagCborMap.Create(("root", Ref(post.ReplyRoot)), ("parent", Ref(post.ReplyParent ?? post.ReplyRoot))))));
        }
        if (post.TopicType is not null) entries.Add(("topicType", DagCborValue.FromString(post.TopicType)));
        return DagCborWriter.Encode(DagCborValue.FromMap(DagCborMap.Create([.. entries])));
    }

    private static DagCborValue Ref(StrongRef reference) =>
        DagCborValue.FromMap(DagCborMap.Create(("uri", DagCborValue.FromString(reference.Uri)), ("cid", DagCborValue.FromString(reference.Cid))));

    /// <summary>A commit creating (or updating) one post.</summary>
    public BuiltCommit Post(long seq, string did, string rkey, ForumPostRecord post, DateTimeOffset time, bool update = false)
    {
        var record = PostRecord(post);
        var cid = Cid.ForDagCbor(record);
        var path = $"{PostCollection}/{rkey}";
        // update: an edit of a record the repository holds (create when it does not: the tree decides, as a PDS would).
        _ = update;
        return new BuiltCommit(Commit(seq, did, time, [(path, cid)], [record]), cid.ToString(), $"at://{did}/{path}");
    }

    /// <summary>A commit deleting one post.</summary>
    public BuiltCommit Delete(long seq, string did, string rkey, DateTimeOffset time)
    {
        var path = $"{PostCollection}/{rkey}";
        return new BuiltCommit(Commit(seq, did, time, [(path, null)], []), null, $"at://{did}/{path}");
    }

    /// <summary>A commit of ordinary network traffic (likes/posts of other collections), which the Firehose ignores.</summary>
    public byte[] Other(long seq, string did, int ops, DateTimeOffset time, int salt = 0)
    {
        var records = new List<byte[]>();
        var repoOps = new List<(string, Cid?)>();
        for (var i = 0; i < ops; i++)
        {
            var collection = i % 2 == 0 ? "app.bsky.feed.like" : "app.bsky.feed.post";
            var record = DagCborWriter.Encode(DagCborValue.FromMap(DagCborMap.Create(
                ("$type", DagCborValue.FromString(collection)),
                ("createdAt", DagCborValue.FromString(time.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture))),
                ("text", DagCborValue.FromString($"synthetic {seq} {i} {salt}")))));
            records.Add(record);
            repoOps.Add(($"{collection}/{Rkey(seq, i)}", Cid.ForDagCbor(record)));
        }
        return Commit(seq, did, time, repoOps, records);
    }

    public static byte[] Identity(long seq, string did, string? handle, DateTimeOffset time) =>
        Wire.FrameEncoder.Encode(new Wire.IdentityEvent { Seq = seq, Did = did, Handle = handle, Time = Format(time) });

    public static byte[] Account(long seq, string did, bool active, string? status, DateTimeOffset time) =>
        Wire.FrameEncoder.Encode(new Wire.AccountEvent { Seq = seq, Did = did, Active = active, Status = status, Time = Format(time) });

    public static byte[] Info(string name, string? message) => Wire.FrameEncoder.Encode(new Wire.InfoEvent { Name = name, Message = message });

    public static byte[] Error(string error, string? message) => Wire.FrameEncoder.Encode(new Wire.ErrorEvent { Error = error, Message = message });

    public static byte[] Labels(long seq, params LabelRecord[] labels) =>
        Wire.FrameEncoder.Encode(new Wire.LabelsEvent
        {
            Seq = seq,
            Labels = [.. labels.Select(l => new Wire.Label
            {
                Ver = 1, Src = l.Src, Uri = l.Uri, Cid = l.Cid, Val = l.Value, Neg = l.Negated,
                Cts = Format(l.Created ?? DateTimeOffset.UnixEpoch),
                Exp = l.Expires is { } exp ? Format(exp) : null,
            })],
        });

    /// <summary>A TID record key derived from a sequence number (unique per (seq, index)).</summary>
    public static string Rkey(long seq, int index = 0) =>
        Tid.FromParts(1_700_000_000_000_000L + (seq * 16) + index, (int)(seq % 1024)).ToString();

    public static string Format(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    /// <summary>
    /// A <c>#sync</c> of <paramref name="did"/>'s repository as this factory holds it (its current tree under a newly
    /// signed commit with a later rev); <paramref name="key"/> signs instead of the factory's key when given.
    /// </summary>
    public byte[] Sync(long seq, string did, DateTimeOffset time, SigningKey? key = null)
    {
        lock (_lock)
        {
            var repo = Repo(did);
            var rev = NextRev(repo, time, seq);
            var (commitCid, commitBlock) = SignCommit(did, repo.Tree.RootCid(), rev, key ?? signingKey);
            repo.Rev = rev;
            var car = CarWriter.WriteDagCborBlocks([commitCid], [commitBlock]);
            return Wire.FrameEncoder.Encode(new Wire.SyncEvent { Seq = seq, Did = did, Rev = rev, Blocks = CarReader.Read(car), Time = Format(time) });
        }
    }

    /// <summary>The rev of the last commit built for <paramref name="did"/> (null before the first).</summary>
    public string? LastRev(string did)
    {
        lock (_lock) return _repos.TryGetValue(did, out var repo) ? repo.Rev : null;
    }

    /// <summary>
    /// A commit of <paramref name="changes"/> (path → new record CID, or null to delete) on <paramref name="did"/>'s
    /// repository: ops as the tree says (create, update with <c>prev</c>, delete with <c>prev</c>; deleting a path the
    /// tree lacks is sent as a delete with no <c>prev</c>, which verification refuses), <c>prevData</c> and <c>since</c>
    /// from the previous commit, and every node of the new tree in the CAR.
    /// </summary>
    private byte[] Commit(long seq, string did, DateTimeOffset time, IReadOnlyList<(string Path, Cid? Cid)> changes, IReadOnlyList<byte[]> records)
    {
        lock (_lock)
        {
            var repo = Repo(did);
            var prevData = repo.Tree.RootCid();
            var since = repo.Rev;
            var ops = new List<Wire.RepoOp>(changes.Count);
            foreach (var (path, cid) in changes)
            {
                if (cid is { } value)
                {
                    var prev = repo.Tree.Insert(path, value);
                    ops.Add(new Wire.RepoOp(prev is null ? Wire.RepoAction.Create : Wire.RepoAction.Update, path, value, prev));
                }
                else
                {
                    ops.Add(new Wire.RepoOp(Wire.RepoAction.Delete, path, null, repo.Tree.Remove(path)));
                }
            }
            var data = repo.Tree.RootCid();
            var rev = NextRev(repo, time, seq);
            repo.Rev = rev;
            var (commitCid, commitBlock) = SignCommit(did, data, rev, signingKey);
            var blocks = new List<CarBlock> { new(commitCid, commitBlock) };
            blocks.AddRange(repo.Tree.Blocks());
            var seen = new HashSet<Cid>(blocks.Select(b => b.Cid));
            foreach (var record in records)
            {
                var recordCid = Cid.ForDagCbor(record);
                if (seen.Add(recordCid)) blocks.Add(new CarBlock(recordCid, record));
            }
            var car = CarWriter.Write([commitCid], blocks);
            return Wire.FrameEncoder.Encode(new Wire.CommitEvent
            {
                Seq = seq,
                Repo = did,
                Commit = commitCid,
                Rev = rev,
                Since = since,
                Blocks = CarReader.Read(car),
                Ops = ops,
                PrevData = prevData,
                Time = Format(time),
            });
        }
    }

    private RepoChain Repo(string did)
    {
        if (!_repos.TryGetValue(did, out var repo)) _repos[did] = repo = new RepoChain();
        return repo;
    }

    /// <summary>A rev from the event time, always after the DID's previous rev (TIDs sort as they count).</summary>
    private static string NextRev(RepoChain repo, DateTimeOffset time, long seq)
    {
        var micros = time.ToUnixTimeMilliseconds() * 1000 + (seq % 1000);
        if (repo.Rev is { } last && Tid.TryParse(last, out var previous) && previous.TimestampMicroseconds >= micros) micros = previous.TimestampMicroseconds + 1;
        return Tid.FromParts(micros, 0).ToString();
    }

    private static (Cid Cid, byte[] Bytes) SignCommit(string did, Cid data, string rev, SigningKey key)
    {
        var unsigned = Wire.CommitBlock.Encode(did, 3, data, rev, null, [], signed: false);
        var bytes = Wire.CommitBlock.Encode(did, 3, data, rev, null, key.Sign(unsigned));
        return (Cid.ForDagCbor(bytes), bytes);
    }

    public void Dispose() => signingKey.Dispose();
}
