using System.Collections.Concurrent;
using AtSync.Core.Forum;

namespace AtSync.QueueWorker.Delivery;

/// <summary>
/// A proactive write budget per PDS and DID that keeps this worker under the PDS's repo-write limits: 5,000 points per
/// hour and 35,000 per day (create 3, update 2, delete 1), counted over sliding windows; plus blocks set by a
/// <c>429</c> until its <c>Retry-After</c> / <c>RateLimit-Reset</c>. Thread-safe.
/// </summary>
public sealed class RateBudget(TimeProvider time)
{
    public const int HourlyPoints = 5_000;
    public const int DailyPoints = 35_000;

    private readonly ConcurrentDictionary<string, Account> _accounts = new(StringComparer.Ordinal);

    public static int Cost(QueueOperation operation) => operation switch
    {
        QueueOperation.Create => 3,
        QueueOperation.Update => 2,
        _ => 1,
    };

    /// <summary>Takes the operation's points from the budget; when it cannot, the earliest time it could.</summary>
    public DateTimeOffset? TryReserve(string key, QueueOperation operation)
    {
        var account = _accounts.GetOrAdd(key, _ => new Account());
        var now = time.GetUtcNow();
        lock (account)
        {
            if (account.BlockedUntil is { } until && until > now) return until;
            var cost = Cost(operation);
            var hourFree = account.Hour.AvailableAt(now, cost, HourlyPoints);
            var dayFree = account.Day.AvailableAt(now, cost, DailyPoints);
            if (hourFree > now || dayFree > now) return hourFree > dayFree ? hourFree : dayFree;
            account.Hour.Add(now, cost);
            account.Day.Add(now, cost);
            return null;
        }
    }

    /// <summary>Gives back the points of a write the PDS did not perform (it answered 429, or it was never sent).</summary>
    public void Refund(string key, QueueOperation operation)
    {
        if (!_accounts.TryGetValue(key, out var account)) return;
        var now = time.GetUtcNow();
        lock (account)
        {
            account.Hour.Remove(now, Cost(operation));
            account.Day.Remove(now, Cost(operation));
        }
    }

    /// <summary>After a 429: no writes for this PDS and DID before <paramref name="until"/>.</summary>
    public void BlockUntil(string key, DateTimeOffset until)
    {
        var account = _accounts.GetOrAdd(key, _ => new Account());
        lock (account)
        {
            if (account.BlockedUntil is not { } current || current < until) account.BlockedUntil = until;
        }
    }

    /// <summary>Points used within the last hour / day (for tests and diagnostics).</summary>
    public (long Hour, long Day) Used(string key)
    {
        if (!_accounts.TryGetValue(key, out var account)) return (0, 0);
        var now = time.GetUtcNow();
        lock (account) return (account.Hour.Sum(now), account.Day.Sum(now));
    }

    private sealed class Account
    {
        public SlidingWindow Hour { get; } = new(TimeSpan.FromMinutes(1), 60);
        public SlidingWindow Day { get; } = new(TimeSpan.FromMinutes(30), 48);
        public DateTimeOffset? BlockedUntil { get; set; }
    }

    /// <summary>Points in buckets of <c>bucket</c> width; the window is the last <c>count</c> buckets.</summary>
    private sealed class SlidingWindow(TimeSpan bucket, int count)
    {
        private readonly long[] _points = new long[count];
        private readonly long[] _index = new long[count];

        private long IndexOf(DateTimeOffset at) => at.UtcTicks / bucket.Ticks;

        public long Sum(DateTimeOffset now)
        {
            var current = IndexOf(now);
            long sum = 0;
            for (var i = 0; i < count; i++)
            {
                if (_index[i] > current - count && _index[i] <= current) sum += _points[i];
            }
            return sum;
        }

        public void Add(DateTimeOffset now, long points)
        {
            var current = IndexOf(now);
            var slot = (int)(current % count);
            if (_index[slot] != current)
            {
                _index[slot] = current;
                _points[slot] = 0;
            }
            _points[slot] += points;
        }

        public void Remove(DateTimeOffset now, long points)
        {
            // Take the points back from the newest buckets (the reservation was recent).
            var current = IndexOf(now);
            for (var back = 0; back < count && points > 0; back++)
            {
                var slot = (int)((current - back) % count);
                if (_index[slot] != current - back) continue;
                var taken = Math.Min(points, _points[slot]);
                _points[slot] -= taken;
                points -= taken;
            }
        }

        /// <summary>Now when <paramref name="cost"/> more points fit under <paramref name="limit"/>; else when enough old buckets will have left the window.</summary>
        public DateTimeOffset AvailableAt(DateTimeOffset now, long cost, long limit)
        {
            var used = Sum(now);
            if (used + cost <= limit) return now;
            var current = IndexOf(now);
            var excess = used + cost - limit;
            for (var age = count - 1; age >= 0; age--)
            {
                var index = current - age;
                var slot = (int)(index % count);
                if (_index[slot] != index) continue;
                excess -= _points[slot];
                if (excess <= 0)
                {
                    // That bucket leaves the window when bucket (index + count) begins.
                    return new DateTimeOffset((index + count) * bucket.Ticks, TimeSpan.Zero);
                }
            }
            return now + bucket * count;
        }
    }
}
