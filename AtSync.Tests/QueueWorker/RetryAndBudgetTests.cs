using AtSync.Core.Forum;
using AtSync.QueueWorker.Delivery;
using AtSync.QueueWorker.Queue;
using Microsoft.Extensions.Time.Testing;

namespace AtSync.Tests.QueueWorker;

public sealed class RetryScheduleTests
{
    [Theory]
    [InlineData(1, 15)]
    [InlineData(2, 30)]
    [InlineData(3, 60)]
    [InlineData(4, 300)]
    [InlineData(5, 900)]
    [InlineData(9, 900)]
    public void Base_delays_follow_the_schedule(int attempt, int seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), RetrySchedule.BaseDelayAfter(attempt));

    [Theory]
    [InlineData(0.0, 0.9)]
    [InlineData(0.5, 1.0)]
    [InlineData(0.999999, 1.1)]
    public void Jitter_stretches_or_shrinks_by_up_to_ten_percent(double random, double factor)
    {
        var schedule = new RetrySchedule(() => random);
        for (var attempt = 1; attempt <= 5; attempt++)
        {
            var expected = RetrySchedule.BaseDelayAfter(attempt).TotalSeconds * factor;
            Assert.Equal(expected, schedule.DelayAfter(attempt).TotalSeconds, precision: 3);
        }
    }

    [Fact]
    public void Default_jitter_varies_within_bounds()
    {
        var schedule = new RetrySchedule();
        var delays = Enumerable.Range(0, 200).Select(_ => schedule.DelayAfter(1).TotalSeconds).ToList();
        Assert.All(delays, d => Assert.InRange(d, 13.5, 16.5));
        Assert.True(delays.Distinct().Count() > 10, "jitter should spread retries");
    }
}

public sealed class RateBudgetTests
{
    private const string Key = "https://pds.example|did:plc:abc";

    [Fact]
    public void Costs_are_three_two_one()
    {
        Assert.Equal(3, RateBudget.Cost(QueueOperation.Create));
        Assert.Equal(2, RateBudget.Cost(QueueOperation.Update));
        Assert.Equal(1, RateBudget.Cost(QueueOperation.Delete));
    }

    [Fact]
    public void Hourly_budget_of_5000_points_stops_writes_until_old_points_leave_the_window()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var budget = new RateBudget(time);
        // 1,666 creates = 4,998 points fit; the next create (3) would make 5,001.
        for (var i = 0; i < 1666; i++) Assert.Null(budget.TryReserve(Key, QueueOperation.Create));
        Assert.Equal((4998L, 4998L), budget.Used(Key));
        var until = budget.TryReserve(Key, QueueOperation.Create);
        Assert.NotNull(until);
        Assert.Equal(time.GetUtcNow() + TimeSpan.FromHours(1), until);
        // Deletes (1 point) still fit up to exactly 5,000; then nothing does.
        Assert.Null(budget.TryReserve(Key, QueueOperation.Delete));
        Assert.Null(budget.TryReserve(Key, QueueOperation.Delete));
        Assert.Equal((5000L, 5000L), budget.Used(Key));
        Assert.NotNull(budget.TryReserve(Key, QueueOperation.Delete));
        // Another DID on the same PDS has its own budget.
        Assert.Null(budget.TryReserve("https://pds.example|did:plc:other", QueueOperation.Create));

        time.Advance(TimeSpan.FromMinutes(59));
        Assert.NotNull(budget.TryReserve(Key, QueueOperation.Create));
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.Null(budget.TryReserve(Key, QueueOperation.Create));
    }

    [Fact]
    public void Daily_budget_of_35000_points_holds_across_hours()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var budget = new RateBudget(time);
        var spent = 0;
        for (var hour = 0; hour < 7; hour++)
        {
            for (var i = 0; i < 2500; i++) Assert.Null(budget.TryReserve(Key, QueueOperation.Update)); // 5,000 points
            spent += 5000;
            time.Advance(TimeSpan.FromHours(1));
        }
        Assert.Equal(35_000, spent);
        var until = budget.TryReserve(Key, QueueOperation.Delete);
        Assert.NotNull(until);
        Assert.True(until > time.GetUtcNow());
        Assert.True(until <= time.GetUtcNow() + TimeSpan.FromHours(17) + TimeSpan.FromMinutes(30));
    }

    [Fact]
    public void Refund_gives_points_back_and_block_until_holds_every_operation()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var budget = new RateBudget(time);
        Assert.Null(budget.TryReserve(Key, QueueOperation.Create));
        budget.Refund(Key, QueueOperation.Create);
        Assert.Equal((0L, 0L), budget.Used(Key));

        var until = time.GetUtcNow() + TimeSpan.FromSeconds(42);
        budget.BlockUntil(Key, until);
        Assert.Equal(until, budget.TryReserve(Key, QueueOperation.Delete));
        time.Advance(TimeSpan.FromSeconds(42));
        Assert.Null(budget.TryReserve(Key, QueueOperation.Delete));
    }
}
