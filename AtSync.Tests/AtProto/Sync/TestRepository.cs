using AtSync.AtProto.Car;
using AtSync.AtProto.Cids;
using AtSync.AtProto.Crypto;
using AtSync.AtProto.DagCbor;
using AtSync.AtProto.EventStream;
using AtSync.AtProto.Mst;
using AtSync.AtProto.Syntax;
using AtSync.AtProto.Sync;

namespace AtSync.Tests.AtProto.Sync;

/// <summary>
/// A generated repository, built with the project's own MST, DAG-CBOR and CAR writers and signed with a fresh key:
/// the source of hand-made commits (good and bad) and of <c>getRepo</c> CARs.
/// </summary>
internal sealed class TestRepository : IDisposable
{
    private readonly Dictionary<Cid, byte[]> _records = [];
    private long _clock = 1_700_000_000_000_000;
    private long _seq;

    public TestRepository(string did = "did:plc:testrepo0000000000000001", KeyCurve curve = KeyCurve.Secp256k1)
    {
        Did = did;
        Key = SigningKey.Generate(curve);
        Rev = NextRev();
    }

    public string Did { get; }

    public SigningKey Key { get; }

    public MstTree Tree { get; } = MstTree.Create();

    /// <summary>The rev of the last commit.</summary>
    public string Rev { get; private set; }

    public Cid Data => Tree.RootCid();

    public RepoSyncState State => new(Rev, Data);

    /// <summary>A record <c>{$type, text}</c> encoded as DAG-CBOR, kept for the CARs; returns its CID.</summary>
    public Cid Record(string collection, string text)
    {
        var bytes = DagCborWriter.Encode(DagCborValue.FromMap(DagCborMap.Create(
            ("$type", DagCborValue.FromString(collection)), ("text", DagCborValue.FromString(text)))));
        var cid = Cid.ForDagCbor(bytes);
        _records[cid] = bytes;
        return cid;
    }

    public byte[] RecordBytes(Cid cid) => _records[cid];

    /// <summary>Writes without a commit event (to fill the repository before the interesting commit).</summary>
    public void Put(string path, string text) => Tree.Insert(path, Record(path[..path.IndexOf('/')], text));

    /// <summary>
    /// Applies <paramref name="changes"/> (path → new text, or null to delete), signs a commit and returns its event:
    /// ops with <c>prev</c> CIDs, <c>prevData</c>, and a CAR of the commit, every tree node and the new records.
    /// </summary>
    public CommitEvent Commit(params (string Path, string? Text)[] changes)
    {
        var prevData = Data;
        var since = Rev;
        var ops = new List<RepoOp>();
        foreach (var (path, text) in changes)
        {
            if (text is null)
            {
                var prev = Tree.Remove(path) ?? throw new InvalidOperationException($"{path} is not in the repository");
                ops.Add(new RepoOp(RepoAction.Delete, path, null, prev));
            }
            else
            {
                var cid = Record(path[..path.IndexOf('/')], text);
                var prev = Tree.Insert(path, cid);
                ops.Add(new RepoOp(prev is null ? RepoAction.Create : RepoAction.Update, path, cid, prev));
            }
        }

        Rev = NextRev();
        var (commitCid, commitBytes) = SignCommit(Data, Rev, Key);
        var blocks = new List<CarBlock> { new(commitCid, commitBytes) };
        blocks.AddRange(Tree.Blocks());
        blocks.AddRange(ops.Where(o => o.Cid is not null).Select(o => o.Cid!.Value).Distinct().Select(cid => new CarBlock(cid, _records[cid])));
        return Event(commitCid, blocks, ops, prevData, since);
    }

    /// <summary>A commit event over arbitrary parts (for bad commits).</summary>
    public CommitEvent Event(Cid commit, IEnumerable<CarBlock> blocks, IReadOnlyList<RepoOp> ops, Cid? prevData, string? since, string? rev = null) => new()
    {
        Seq = ++_seq,
        Repo = Did,
        Commit = commit,
        Rev = rev ?? Rev,
        Since = since,
        Blocks = CarReader.Read(CarWriter.Write([commit], blocks)),
        Ops = ops,
        PrevData = prevData,
        Time = "2026-12-01T00:00:00.000Z",
    };

    /// <summary>A signed commit object for <paramref name="data"/>: its CID and bytes.</summary>
    public (Cid Cid, byte[] Bytes) SignCommit(Cid data, string rev, SigningKey key)
    {
        var unsigned = CommitBlock.Encode(Did, 3, data, rev, null, default, signed: false);
        var bytes = CommitBlock.Encode(Did, 3, data, rev, null, key.Sign(unsigned));
        return (Cid.ForDagCbor(bytes), bytes);
    }

    /// <summary>The whole repository as <c>com.atproto.sync.getRepo</c> serves it: a CAR rooted at a signed commit.</summary>
    public byte[] ExportCar() => ExportCarWith();

    /// <summary><see cref="ExportCar"/>, with <paramref name="extra"/> blocks standing in for records this repository does not hold.</summary>
    public byte[] ExportCarWith(params CarBlock[] extra)
    {
        var (commitCid, commitBytes) = SignCommit(Data, Rev, Key);
        var blocks = new List<CarBlock> { new(commitCid, commitBytes) };
        blocks.AddRange(Tree.Blocks());
        blocks.AddRange(Tree.Walk().Select(l => l.Value).Distinct().Where(_records.ContainsKey).Select(cid => new CarBlock(cid, _records[cid])));
        blocks.AddRange(extra);
        return CarWriter.Write([commitCid], blocks);
    }

    public string NextRev() => Tid.FromParts(_clock += 1000, 0).ToString();

    public void Dispose() => Key.Dispose();
}
