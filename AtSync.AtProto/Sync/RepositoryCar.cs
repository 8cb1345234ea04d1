using System.Text;
using AtSync.AtProto.Car;
using AtSync.AtProto.Cids;
using AtSync.AtProto.Crypto;
using AtSync.AtProto.DagCbor;
using AtSync.AtProto.Mst;

namespace AtSync.AtProto.Sync;

/// <summary>
/// A whole repository as <c>com.atproto.sync.getRepo</c> serves it (a CAR rooted at the signed commit), verified
/// before anything is read from it: every block's hash, the commit's DID and signature, the whole MST (canonical,
/// every node present) and a strict DAG-CBOR block for every record. A truncated or tampered CAR is refused as a whole.
/// </summary>
public sealed class RepositoryCar
{
    private readonly CarFile _car;
    private readonly IReadOnlyList<MstLeaf> _leaves;

    private RepositoryCar(CarFile car, string did, string rev, Cid data, IReadOnlyList<MstLeaf> leaves)
    {
        _car = car;
        Did = did;
        Rev = rev;
        Data = data;
        _leaves = leaves;
    }

    public string Did { get; }

    /// <summary>The commit's rev: where live events for this repository continue from.</summary>
    public string Rev { get; }

    /// <summary>The MST root the commit signs.</summary>
    public Cid Data { get; }

    /// <summary>Number of records in the repository.</summary>
    public int RecordCount => _leaves.Count;

    /// <summary>The state this repository establishes, for <see cref="CommitVerifier"/> on the live events after it.</summary>
    public RepoSyncState State => new(Rev, Data);

    /// <summary>Reads and verifies a repository CAR of <paramref name="did"/> against its signing <paramref name="key"/>.</summary>
    public static RepoRejection TryRead(ReadOnlyMemory<byte> bytes, string did, PublicKey? key, out RepositoryCar? repository, RepoReadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(did);
        options ??= RepoReadOptions.Default;
        repository = null;
        var rejection = SignedCommitReader.TryRead(bytes, did, key, options.CarOptions, out var car, out var commit);
        if (rejection != RepoRejection.None)
        {
            return rejection;
        }

        List<MstLeaf> leaves;
        try
        {
            var tree = MstTree.Load(commit.Data, car.TryGetBlock, verifyBlocks: false, maxNodes: car.BlockCount);
            if (!tree.IsComplete)
            {
                return RepoRejection.MissingBlock;
            }

            leaves = tree.Walk().ToList();
        }
        catch (MstFormatException)
        {
            return RepoRejection.MalformedTree;
        }

        foreach (var leaf in leaves)
        {
            if (!leaf.Value.IsDagCbor)
            {
                return RepoRejection.MalformedRecord;
            }

            if (!car.TryGetBlock(leaf.Value, out var record))
            {
                return RepoRejection.MissingBlock;
            }

            if (!DagCborReader.TryValidate(record.Span, out _))
            {
                return RepoRejection.MalformedRecord;
            }
        }

        repository = new RepositoryCar(car, did, commit.Rev, commit.Data, leaves);
        return RepoRejection.None;
    }

    /// <summary>The records of the chosen <paramref name="collections"/> (all when null), in key order, decoded (all were validated by <see cref="TryRead"/>).</summary>
    public IEnumerable<RepoRecord> Records(IReadOnlySet<string>? collections = null)
    {
        foreach (var leaf in _leaves)
        {
            var collection = Collection(leaf.Key);
            if (collections is not null && !collections.Contains(collection))
            {
                continue;
            }

            var value = DagCborReader.Decode(_car.GetBlock(leaf.Value));
            yield return new RepoRecord(collection, Encoding.UTF8.GetString(leaf.Key.AsSpan(collection.Length + 1)), leaf.Value, value);
        }
    }

    private static string Collection(byte[] key) => Encoding.UTF8.GetString(key, 0, Array.IndexOf(key, (byte)'/'));
}
