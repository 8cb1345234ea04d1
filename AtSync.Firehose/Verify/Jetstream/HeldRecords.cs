using AtSync.Core.Resilience;
using AtSync.Firehose.Events;

namespace AtSync.Firehose.Verify.Jetstream;

/// <summary>
/// Jetstream commits of authors whose PDS could not be asked (unreachable, slow): they wait here, in order, per author,
/// and are asked for again after a backoff (2 s doubling to 5 min), so one author's outage never holds the stream or
/// anyone else. Bounded: <c>retries</c> attempts, <c>maxPerAuthor</c> events per author, <see cref="MaxAuthors"/> authors;
/// past a bound the events are dropped and counted as <see cref="RecordRefusals.PdsUnavailable"/>. Held in memory: a
/// restart forgets them (the stream's cursor has moved on).
/// </summary>
public sealed class HeldRecords(int retries, int maxPerAuthor, TimeProvider time)
{
    public const int MaxAuthors = 10_000;
    private static readonly TimeSpan First = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan Max = TimeSpan.FromMinutes(5);

    private readonly Dictionary<string, Author> _authors = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <summary>One author's waiting commits, their failed attempts, and when to ask again.</summary>
    public sealed record Released(string Did, IReadOnlyList<CommitEvent> Commits, int Attempts);

    private sealed class Author(int attempts, DateTimeOffset retryAt)
    {
        public Queue<CommitEvent> Commits { get; } = new();
        public int Attempts { get; set; } = attempts;
        public DateTimeOffset RetryAt { get; set; } = retryAt;
    }

    public int Count
    {
        get
        {
            lock (_lock) return _authors.Values.Sum(a => a.Commits.Count);
        }
    }

    public bool IsHeld(string did)
    {
        lock (_lock) return _authors.ContainsKey(did);
    }

    /// <summary>Queues <paramref name="commit"/> behind the author's waiting ones; false (dropped) when the author's queue is full.</summary>
    public bool Append(string did, CommitEvent commit)
    {
        lock (_lock)
        {
            if (!_authors.TryGetValue(did, out var author)) return false;
            if (author.Commits.Count >= maxPerAuthor) return false;
            author.Commits.Enqueue(commit);
            return true;
        }
    }

    /// <summary>
    /// After a failed attempt (<paramref name="attempts"/> so far, this one included): holds the author's remaining commits
    /// until the next retry, or returns them all as dropped when the attempts or the bounds are used up.
    /// </summary>
    public IReadOnlyList<CommitEvent> Hold(string did, IReadOnlyList<CommitEvent> commits, int attempts)
    {
        lock (_lock)
        {
            if (attempts > retries || (!_authors.ContainsKey(did) && _authors.Count >= MaxAuthors)) return commits;
            var author = new Author(attempts, time.GetUtcNow() + Delay(attempts));
            var dropped = new List<CommitEvent>();
            foreach (var commit in commits)
            {
                if (author.Commits.Count < maxPerAuthor) author.Commits.Enqueue(commit);
                else dropped.Add(commit);
            }
            _authors[did] = author;
            return dropped;
        }
    }

    /// <summary>Takes the authors whose retry time has come (they are no longer held until they fail again).</summary>
    public IReadOnlyList<Released> TakeDue()
    {
        var now = time.GetUtcNow();
        lock (_lock)
        {
            var due = _authors.Where(a => a.Value.RetryAt <= now).ToList();
            foreach (var (did, _) in due) _authors.Remove(did);
            return [.. due.Select(a => new Released(a.Key, [.. a.Value.Commits], a.Value.Attempts))];
        }
    }

    /// <summary>The wait after the <paramref name="attempts"/>-th failed attempt: 2 s doubling, at most 5 minutes.</summary>
    public static TimeSpan Delay(int attempts)
    {
        var backoff = new Backoff(First, Max);
        var delay = First;
        for (var i = 0; i < attempts; i++) delay = backoff.Next();
        return delay;
    }
}
