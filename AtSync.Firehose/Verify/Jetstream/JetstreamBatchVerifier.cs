using System.Collections.Concurrent;
using AtSync.AtProto.Identity;
using AtSync.AtProto.Syntax;
using AtSync.Firehose.Events;
using AtSync.Firehose.Ingest.Jetstream;
using AtSync.Firehose.Repos;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AtSync.Firehose.Verify.Jetstream;

/// <summary>
/// The verify stage of the Jetstream stream. Jetstream signs nothing, so before a forum op is applied its author's PDS
/// must prove it (<see cref="RecordProver"/>): proven commits go on with the proven record, refused ones are counted by
/// reason and set aside (the cursor covers them), and the commits of an author whose PDS cannot be asked now wait in
/// <see cref="HeldRecords"/> (with every later commit of that author, so their order holds) while everyone else's go
/// on. Authors are checked concurrently; each author's commits in order. With <see cref="JetstreamOptions.VerifyRecords"/>
/// off the events are applied as Jetstream sent them. Then, as for the relay, the handles of new authors.
/// </summary>
public sealed partial class JetstreamBatchVerifier : IBatchVerifier
{
    private const int MaxConcurrentAuthors = 8;
    private static readonly IReadOnlyDictionary<long, SignatureVerdict> NoVerdicts = new Dictionary<long, SignatureVerdict>();

    private readonly RecordProver _prover;
    private readonly IDidResolver _resolver;
    private readonly AuthorHandles _handles;
    private readonly IOptions<JetstreamOptions> _options;
    private readonly ILogger<JetstreamBatchVerifier> _logger;

    public JetstreamBatchVerifier(RecordProver prover, IDidResolver resolver, AuthorHandles handles, IOptions<JetstreamOptions> options,
        TimeProvider time, ILogger<JetstreamBatchVerifier> logger)
    {
        _prover = prover;
        _resolver = resolver;
        _handles = handles;
        _options = options;
        _logger = logger;
        Held = new HeldRecords(options.Value.UnavailableRetries, options.Value.MaxHeldPerAuthor, time);
    }

    /// <summary>Commits waiting for their authors' PDSes.</summary>
    public HeldRecords Held { get; }

    public async Task<PreparedBatch> PrepareAsync(string stream, IReadOnlyList<StreamEvent> events, CancellationToken ct)
    {
        foreach (var identity in events.OfType<IdentityEvent>())
        {
            // A new PDS or key announced: the next proof asks the directory again.
            if (Did.TryParse(identity.Did, out var did)) _resolver.Invalidate(did);
        }
        var setAside = new BatchOutcome();
        List<StreamEvent> kept;
        if (!_options.Value.VerifyRecords)
        {
            kept = [.. events];
        }
        else
        {
            kept = await ProveAsync(events, setAside, ct);
        }
        var authors = kept.OfType<CommitEvent>()
            .Where(c => c.ForumOps.Any(op => op.Action != ForumOp.Delete && op.Post is not null))
            .Select(c => c.Repo)
            .Distinct(StringComparer.Ordinal)
            .ToList();
        IReadOnlyDictionary<string, string?> resolved = authors.Count > 0
            ? await _handles.ResolveAsync(authors, ct)
            : new Dictionary<string, string?>(StringComparer.Ordinal);
        // No repository state is written: a Jetstream proof is of the PDS's head, not of a relay commit (Repos/ tracks those).
        return new PreparedBatch(kept, NoVerdicts, resolved, setAside, new RepoWrites());
    }

    private async Task<List<StreamEvent>> ProveAsync(IReadOnlyList<StreamEvent> events, BatchOutcome setAside, CancellationToken ct)
    {
        // Released authors first: their commits are older than this batch's.
        var queues = new Dictionary<string, (List<CommitEvent> Commits, int Attempts)>(StringComparer.Ordinal);
        foreach (var released in Held.TakeDue()) queues[released.Did] = ([.. released.Commits], released.Attempts);
        foreach (var commit in events.OfType<CommitEvent>().Where(c => c.ForumOps.Count > 0))
        {
            if (Held.IsHeld(commit.Repo))
            {
                if (!Held.Append(commit.Repo, commit)) setAside.Skip(RecordRefusals.PdsUnavailable);
                continue;
            }
            if (!queues.TryGetValue(commit.Repo, out var queue)) queues[commit.Repo] = queue = ([], 0);
            queue.Commits.Add(commit);
        }

        var proven = new ConcurrentDictionary<CommitEvent, CommitEvent>(ReferenceEqualityComparer.Instance);
        var refused = new ConcurrentQueue<string>();
        await Parallel.ForEachAsync(queues, new ParallelOptions { MaxDegreeOfParallelism = MaxConcurrentAuthors, CancellationToken = ct }, async (entry, token) =>
        {
            var (did, (commits, attempts)) = entry;
            for (var i = 0; i < commits.Count; i++)
            {
                var check = await _prover.CheckAsync(commits[i], token);
                switch (check.Status)
                {
                    case RecordCheckStatus.Proven:
                        proven[commits[i]] = check.Commit!;
                        break;
                    case RecordCheckStatus.Refused:
                        LogRefused(did, commits[i].ForumOps[0].Action, commits[i].ForumOps[0].Uri(did), check.Reason);
                        refused.Enqueue(check.Reason);
                        break;
                    default:
                        var waiting = commits.Skip(i).ToList();
                        var dropped = Held.Hold(did, waiting, attempts + 1);
                        if (dropped.Count > 0) LogDropped(did, dropped.Count, check.Reason);
                        else LogHeld(did, waiting.Count, check.Reason, HeldRecords.Delay(attempts + 1).TotalSeconds);
                        foreach (var _ in dropped) refused.Enqueue(RecordRefusals.PdsUnavailable);
                        return;
                }
            }
        });
        foreach (var reason in refused) setAside.Skip(reason);

        var current = new HashSet<object>(events, ReferenceEqualityComparer.Instance);
        var kept = new List<StreamEvent>(events.Count);
        foreach (var (_, (commits, _)) in queues)
        {
            foreach (var commit in commits)
            {
                // Released commits (not of this batch) go first, in their author's order.
                if (proven.TryGetValue(commit, out var verified) && !current.Contains(commit)) kept.Add(verified);
            }
        }
        foreach (var streamEvent in events)
        {
            if (streamEvent is not CommitEvent commit || commit.ForumOps.Count == 0) kept.Add(streamEvent);
            else if (proven.TryGetValue(commit, out var verified)) kept.Add(verified);
        }
        return kept;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Jetstream {Action} {Uri} of {Did} refused: its PDS does not prove it ({Reason})")]
    private partial void LogRefused(string did, string action, string uri, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The PDS of {Did} is unavailable ({Reason}): {Count} of its forum events wait, asked again in {DelaySeconds:0} s")]
    private partial void LogHeld(string did, int count, string reason, double delaySeconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The PDS of {Did} stayed unavailable ({Reason}): {Count} of its forum events are dropped")]
    private partial void LogDropped(string did, int count, string reason);
}
