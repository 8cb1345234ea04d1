using AtSync.QueueWorker.Queue;

namespace AtSync.Tests.QueueWorker;

/// <summary>PDS faults and the retry schedule, on a fake clock: 500s, 429s, dropped connections, slow responses.</summary>
public sealed class QueueFaultTests
{
    // Jitter fixed at the middle of its range: delays are exactly 15 s, 30 s, 60 s, 5 min.
    private static Task<QueueHarness> Harness(Dictionary<string, string?>? settings = null) => QueueHarness.CreateAsync(settings, jitter: () => 0.5);

    private const string Create = "com.atproto.repo.createRecord";
    private const string Put = "com.atproto.repo.putRecord";

    [Fact]
    public async Task A_500_is_retried_after_15_seconds_and_the_retry_writes_the_same_record_once()
    {
        await using var h = await Harness();
        var user = await h.LinkUserAsync();
        var (_, post) = await h.PostTopicAsync(user.UserId, "S", "<t>x</t>");
        h.Pds.InjectFault(new PdsFault.Error(500, "InternalServerError"), Create);

        var first = await h.RunBatchAsync();
        Assert.Equal(1, first.Failed);
        var row = Assert.Single(await h.QueueRowsAsync());
        Assert.Equal("pending", row.Status);
        Assert.Equal(1, row.Attempts);
        Assert.Equal(h.Time.GetUtcNow().ToUnixTimeSeconds() + 15, row.NextRetryAt);
        Assert.Contains("500", row.LastError, StringComparison.Ordinal);
        Assert.Null((await h.AtprotoPostAsync(post))?.AtUri);

        h.Time.Advance(TimeSpan.FromSeconds(14));
        Assert.Equal(0, (await h.RunBatchAsync()).Claimed);
        h.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, (await h.RunBatchAsync()).Done);

        var state = await h.AtprotoPostAsync(post);
        Assert.Equal("synced", state!.SyncStatus);
        Assert.EndsWith("/" + row.Rkey, state.AtUri, StringComparison.Ordinal); // the rkey given at the first claim
        Assert.Single(h.Pds.Records);
        Assert.Equal([(Create, 500), (Put, 200)], h.Pds.Calls.Select(c => (c.Nsid, c.Status)));
    }

    [Fact]
    public async Task Failures_follow_15s_30s_60s_5min_then_dead_letter_with_the_last_error()
    {
        await using var h = await Harness();
        var user = await h.LinkUserAsync();
        var (_, post) = await h.PostTopicAsync(user.UserId, "S", "<t>x</t>");
        h.Pds.InjectFault(new PdsFault.Error(502, "BadGateway", "upstream down"), count: 5);

        var gaps = new List<long>();
        for (var attempt = 1; attempt <= 5; attempt++)
        {
            var result = await h.RunBatchAsync();
            Assert.Equal(1, result.Claimed);
            var row = Assert.Single(await h.QueueRowsAsync());
            Assert.Equal(attempt, row.Attempts);
            if (attempt < 5)
            {
                Assert.Equal("pending", row.Status);
                gaps.Add(row.NextRetryAt - h.Time.GetUtcNow().ToUnixTimeSeconds());
                h.Time.Advance(TimeSpan.FromSeconds(row.NextRetryAt - h.Time.GetUtcNow().ToUnixTimeSeconds()));
            }
            else
            {
                Assert.Equal("dead_letter", row.Status);
                Assert.Contains("502", row.LastError, StringComparison.Ordinal);
                Assert.Contains("upstream down", row.LastError, StringComparison.Ordinal);
            }
        }
        Assert.Equal([15L, 30L, 60L, 300L], gaps);
        Assert.Equal("failed", (await h.AtprotoPostAsync(post))!.SyncStatus);
        Assert.Empty(h.Pds.Records);
        h.Time.Advance(TimeSpan.FromDays(1));
        Assert.Equal(0, (await h.RunBatchAsync()).Claimed); // dead letters are not retried
    }

    [Fact]
    public async Task A_429_defers_the_row_until_Retry_After_without_using_an_attempt()
    {
        await using var h = await Harness();
        var user = await h.LinkUserAsync();
        await h.PostTopicAsync(user.UserId, "S", "<t>x</t>");
        h.Pds.InjectFault(new PdsFault.Error(429, "RateLimitExceeded", "slow down", ("Retry-After", "120")), Create);

        var result = await h.RunBatchAsync();
        Assert.Equal(1, result.Deferred);
        var row = Assert.Single(await h.QueueRowsAsync());
        Assert.Equal(0, row.Attempts);
        Assert.Equal(h.Time.GetUtcNow().ToUnixTimeSeconds() + 120, row.NextRetryAt);

        // A new post by the same user is held back by the PDS's block as well (no request is sent).
        h.Time.Advance(TimeSpan.FromSeconds(1));
        await h.ExecuteAsync($"UPDATE {h.Tables.Queue} SET next_retry_at = 0");
        var calls = h.Pds.Calls.Count;
        Assert.Equal(1, (await h.RunBatchAsync()).Deferred);
        Assert.Equal(calls, h.Pds.Calls.Count);

        h.Time.Advance(TimeSpan.FromSeconds(120));
        Assert.Equal(1, (await h.RunBatchAsync()).Done);
        Assert.Single(h.Pds.Records);
        // The write after the 429 is a create: the 429 proved the first one was not applied.
        Assert.Equal([(Create, 429), (Create, 200)], h.Pds.Calls.Select(c => (c.Nsid, c.Status)));
    }

    [Fact]
    public async Task A_429_without_Retry_After_waits_for_RateLimit_Reset()
    {
        await using var h = await Harness();
        var user = await h.LinkUserAsync();
        await h.PostTopicAsync(user.UserId, "S", "<t>x</t>");
        var reset = h.Time.GetUtcNow().ToUnixTimeSeconds() + 600;
        h.Pds.InjectFault(new PdsFault.Error(429, "RateLimitExceeded", "hourly limit",
            ("RateLimit-Limit", "5000"), ("RateLimit-Remaining", "0"), ("RateLimit-Reset", reset.ToString()), ("RateLimit-Policy", "5000;w=3600")), Create);

        Assert.Equal(1, (await h.RunBatchAsync()).Deferred);
        var row = Assert.Single(await h.QueueRowsAsync());
        Assert.Equal(reset, row.NextRetryAt);
        Assert.Equal(0, row.Attempts);
    }

    [Fact]
    public async Task A_connection_dropped_after_the_PDS_applied_a_create_never_creates_it_twice()
    {
        await using var h = await Harness();
        var user = await h.LinkUserAsync();
        var (_, post) = await h.PostTopicAsync(user.UserId, "S", "<t>x</t>");
        h.Pds.InjectFault(new PdsFault.Drop(AfterApplying: true), Create);

        var first = await h.RunBatchAsync();
        Assert.Equal(1, first.Failed);
        Assert.Single(h.Pds.Records); // the PDS has it, the worker does not know
        var row = Assert.Single(await h.QueueRowsAsync());
        Assert.Contains("transport", row.LastError, StringComparison.Ordinal);

        h.Time.Advance(TimeSpan.FromSeconds(15));
        Assert.Equal(1, (await h.RunBatchAsync()).Done);
        var uri = Assert.Single(h.Pds.Records).Key;
        Assert.Equal(1, h.Pds.CreatesByUri[uri]);
        Assert.Equal(0, h.Pds.DuplicateCreateAttempts);
        Assert.Equal(uri, (await h.AtprotoPostAsync(post))!.AtUri);
        Assert.Equal([Create, Put], h.Pds.Calls.Select(c => c.Nsid));
    }

    [Fact]
    public async Task A_connection_dropped_before_the_PDS_answered_is_retried()
    {
        await using var h = await Harness();
        var user = await h.LinkUserAsync();
        var (_, post) = await h.PostTopicAsync(user.UserId, "S", "<t>x</t>");
        h.Pds.InjectFault(new PdsFault.Drop(AfterApplying: false), Create);
        Assert.Equal(1, (await h.RunBatchAsync()).Failed);
        Assert.Empty(h.Pds.Records);
        h.Time.Advance(TimeSpan.FromSeconds(15));
        Assert.Equal(1, (await h.RunBatchAsync()).Done);
        Assert.Equal("synced", (await h.AtprotoPostAsync(post))!.SyncStatus);
        Assert.Single(h.Pds.Records);
    }

    [Fact]
    public async Task A_slow_PDS_times_out_and_the_row_is_retried()
    {
        await using var h = await Harness(new() { ["QueueWorker:RequestTimeout"] = "00:00:00.300" });
        var user = await h.LinkUserAsync();
        await h.PostTopicAsync(user.UserId, "S", "<t>x</t>");
        h.Pds.InjectFault(new PdsFault.Slow(TimeSpan.FromSeconds(3)), Create);

        Assert.Equal(1, (await h.RunBatchAsync()).Failed);
        var row = Assert.Single(await h.QueueRowsAsync());
        Assert.Contains("timeout", row.LastError, StringComparison.Ordinal);
        Assert.Equal(h.Time.GetUtcNow().ToUnixTimeSeconds() + 15, row.NextRetryAt);
        h.Time.Advance(TimeSpan.FromSeconds(15));
        Assert.Equal(1, (await h.RunBatchAsync()).Done);
    }

    [Fact]
    public async Task A_write_the_PDS_rejects_as_invalid_is_dead_lettered_at_once_with_its_reason()
    {
        await using var h = await Harness();
        var user = await h.LinkUserAsync();
        await h.PostTopicAsync(user.UserId, "S", "<t>x</t>");
        h.Pds.InjectFault(new PdsFault.Error(400, "InvalidRecord", "Record/text must not be longer than 3000 graphemes"), Create);
        Assert.Equal(1, (await h.RunBatchAsync()).DeadLettered);
        var row = Assert.Single(await h.QueueRowsAsync());
        Assert.Equal("dead_letter", row.Status);
        Assert.Contains("InvalidRecord", row.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Shutdown_releases_in_flight_rows_and_a_released_create_goes_out_as_a_put()
    {
        await using var h = await Harness();
        var user = await h.LinkUserAsync();
        await h.PostTopicAsync(user.UserId, "S", "<t>x</t>");
        h.Pds.InjectFault(new PdsFault.Slow(TimeSpan.FromSeconds(3)), Create);

        using var abort = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var result = await h.Processor.ProcessBatchAsync(abort.Token);
        Assert.Equal(1, result.Released);
        var row = Assert.Single(await h.QueueRowsAsync());
        Assert.Equal("pending", row.Status);
        Assert.Equal(h.Time.GetUtcNow().ToUnixTimeSeconds(), row.NextRetryAt);
        // The write was sent, so the attempt counts and the next try is an idempotent put.
        Assert.Equal(1, row.Attempts);
        Assert.Equal(1, (await h.RunBatchAsync()).Done);
        Assert.Equal(Put, h.Pds.Calls[^1].Nsid);
    }

    [Fact]
    public async Task An_expired_lease_returns_the_row_and_the_crashed_worker_cannot_finish_it_late()
    {
        await using var h = await Harness();
        var user = await h.LinkUserAsync();
        var (_, post) = await h.PostTopicAsync(user.UserId, "S", "<t>x</t>");
        var tids = new AtSync.AtProto.Syntax.TidGenerator(h.Time);

        // A worker claims the row and dies.
        var claimed = Assert.Single(await h.Store.ClaimAsync(10, h.Time.GetUtcNow(), TimeSpan.FromMinutes(2), tids, CancellationToken.None));
        Assert.Equal("processing", Assert.Single(await h.QueueRowsAsync()).Status);
        Assert.Equal(0, (await h.RunBatchAsync()).Claimed); // held by the lease

        h.Time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(0, await h.Store.RecoverExpiredLeasesAsync(h.Time.GetUtcNow(), CancellationToken.None));
        h.Time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(1, await h.Store.RecoverExpiredLeasesAsync(h.Time.GetUtcNow(), CancellationToken.None));

        Assert.Equal(1, (await h.RunBatchAsync()).Done);
        Assert.Equal(Put, Assert.Single(h.Pds.Calls).Nsid); // it may have written before dying: put, not create
        Assert.EndsWith("/" + claimed.Rkey, (await h.AtprotoPostAsync(post))!.AtUri, StringComparison.Ordinal);

        // The dead worker comes back and tries to finish its stale claim: nothing changes.
        var applied = await h.Store.FinishAsync([(claimed, new RowOutcome.Failed("x", "y", h.Time.GetUtcNow()))], h.Time.GetUtcNow(), CancellationToken.None);
        Assert.Equal(0, applied);
        Assert.Empty(await h.QueueRowsAsync());
    }

    [Fact]
    public async Task Dead_letters_older_than_30_days_are_purged()
    {
        await using var h = await Harness();
        var now = h.Time.GetUtcNow().ToUnixTimeSeconds();
        await h.ExecuteAsync($"""
            INSERT INTO {h.Tables.Queue} (operation, collection, user_did, status, last_error, created_at, updated_at) VALUES
            ('create', 'net.vza.forum.post', 'did:plc:a', 'dead_letter', 'old', 0, {now - 31 * 86400}),
            ('create', 'net.vza.forum.post', 'did:plc:a', 'dead_letter', 'recent', 0, {now - 29 * 86400}),
            ('create', 'net.vza.forum.post', 'did:plc:a', 'pending', NULL, 0, {now - 40 * 86400})
            """);
        Assert.Equal(1, await h.Store.PurgeDeadLettersAsync(h.Time.GetUtcNow() - TimeSpan.FromDays(30), CancellationToken.None));
        Assert.Equal(["recent", null], (await h.QueueRowsAsync()).Select(r => r.LastError));
    }
}
