using System.Globalization;
using AtSync.Firehose.Ingest;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AtSync.Firehose.Health;

/// <summary>
/// Health of one stream: its socket connected (a replay has none), a message within
/// <see cref="FirehoseOptions.MessageStaleAfter"/>, its cursor saved within <see cref="FirehoseOptions.CursorStaleAfter"/>
/// (no cursor yet is the first run: healthy), and no frames waiting longer than <see cref="FirehoseOptions.CursorStuckAfter"/>
/// without the cursor moving (a stuck writer, a replay included). Descriptions carry no URLs or exception text.
/// </summary>
public sealed class StreamHealthCheck(StreamState state, FirehoseOptions options, TimeProvider time, DateTimeOffset startedAt, bool requireActivity) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        var failures = new List<string>();
        if (!state.IsReplay && !state.IsConnected)
        {
            failures.Add(state.Problem is { } problem ? $"disconnected: {problem}" : "not connected");
        }
        if (requireActivity && !state.IsReplay)
        {
            var lastMessage = state.LastMessageAt ?? startedAt;
            if (now - lastMessage > options.MessageStaleAfter)
            {
                failures.Add($"no message for {Seconds(now - lastMessage)} s");
            }
            if (state.CursorSavedAt is { } saved && now - saved > options.CursorStaleAfter)
            {
                failures.Add($"cursor not saved for {Seconds(now - saved)} s");
            }
        }
        if (state.WaitingSince is { } waiting && now - waiting > options.CursorStuckAfter)
        {
            failures.Add($"cursor stuck: frames waiting for {Seconds(now - waiting)} s");
        }
        if (failures.Count > 0)
        {
            return Task.FromResult(new HealthCheckResult(context.Registration.FailureStatus, string.Join("; ", failures)));
        }
        var description = state.NoSocketReason ?? "connected";
        if (state.LastMessageAt is { } last) description += $", last message {Seconds(now - last)} s ago";
        description += state.CursorSavedAt is { } cursor ? $", cursor saved {Seconds(now - cursor)} s ago" : ", no cursor yet (first run)";
        return Task.FromResult(HealthCheckResult.Healthy(description));
    }

    private static string Seconds(TimeSpan span) => Math.Max(0, span.TotalSeconds).ToString("0", CultureInfo.InvariantCulture);
}
