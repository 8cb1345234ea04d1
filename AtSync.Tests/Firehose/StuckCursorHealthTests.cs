using AtSync.Firehose;
using AtSync.Firehose.Health;
using AtSync.Firehose.Ingest;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Time.Testing;

namespace AtSync.Tests.Firehose;

/// <summary>/health's stream check: frames waiting without the cursor moving for longer than <c>CursorStuckAfter</c> is unhealthy.</summary>
public sealed class StuckCursorHealthTests
{
    private static async Task<HealthCheckResult> CheckAsync(StreamState state, FakeTimeProvider time, FirehoseOptions options)
    {
        var check = new StreamHealthCheck(state, options, time, time.GetUtcNow(), requireActivity: true);
        var registration = new HealthCheckRegistration("relay", check, HealthStatus.Unhealthy, null);
        return await check.CheckHealthAsync(new HealthCheckContext { Registration = registration });
    }

    [Fact]
    public async Task Frames_waiting_while_the_cursor_does_not_move_turn_the_stream_unhealthy_and_a_commit_heals_it()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));
        var options = new FirehoseOptions { CursorStuckAfter = TimeSpan.FromSeconds(60) };
        var state = new StreamState("firehose") { NoSocketReason = null };
        state.MarkConnected(time.GetUtcNow());
        state.MarkMessage(time.GetUtcNow());
        state.MarkCursorSaved(time.GetUtcNow());

        state.MarkWaiting(time.GetUtcNow());
        time.Advance(TimeSpan.FromSeconds(30));
        state.MarkMessage(time.GetUtcNow());
        state.MarkWaiting(time.GetUtcNow()); // later frames of the same batch do not move the start
        Assert.Equal(HealthStatus.Healthy, (await CheckAsync(state, time, options)).Status);

        time.Advance(TimeSpan.FromSeconds(31));
        state.MarkMessage(time.GetUtcNow());
        var stuck = await CheckAsync(state, time, options);
        Assert.Equal(HealthStatus.Unhealthy, stuck.Status);
        Assert.Contains("cursor stuck", stuck.Description, StringComparison.Ordinal);

        state.MarkCursorSaved(time.GetUtcNow());
        state.ClearWaiting();
        Assert.Equal(HealthStatus.Healthy, (await CheckAsync(state, time, options)).Status);
    }
}
