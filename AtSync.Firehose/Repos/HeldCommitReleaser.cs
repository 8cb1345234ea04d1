using AtSync.Core.Resilience;
using AtSync.Core.Storage;
using AtSync.Core.Sync;
using AtSync.Firehose.Apply;
using AtSync.Firehose.Events;
using AtSync.Firehose.Ingest.Jetstream;
using AtSync.Firehose.Verify;
using AtSync.Firehose.Verify.Jetstream;
using Microsoft.Extensions.Options;

namespace AtSync.Firehose.Repos;

/// <summary>
/// Releases held commits (<c>atproto_held_commits</c>) through the same verify and apply path as the stream, in seq
/// order per repository (relay frames through <see cref="BatchVerifier"/>, Jetstream events, whose key is their
/// author's PDS answering, through <see cref="JetstreamBatchVerifier"/>; reasons <c>pds_unavailable</c> and
/// <c>gave_up_pds_unavailable</c>): parked repositories whose <c>retry_at</c> is due (their key is tried again within
/// <see cref="FirehoseOptions.ReleaseKeyDeadline"/>; still unavailable → the next retry at a doubling delay from
/// <see cref="FirehoseOptions.ParkedRetryFirst"/> to <see cref="FirehoseOptions.ParkedRetryMax"/>; past
/// <see cref="FirehoseOptions.ParkedMaxAttempts"/> or <see cref="FirehoseOptions.ParkedMaxAge"/> the held commits are
/// dropped with their reason and the repository left desynchronized for an import), and active repositories that
/// still hold commits (an import finished: those whose rev the import already reflects are skipped). The stream's
/// cursor is not touched: the held frames are already behind it.
/// </summary>
public sealed partial class HeldCommitReleaser(
    RepoStateStore store, BatchVerifier verifier, JetstreamBatchVerifier jetstreamVerifier, BatchWriter writer, IStreamDecoder decoder, FirehoseMetrics metrics,
    DatabaseReadiness readiness, IOptions<FirehoseOptions> options, TimeProvider time, ILogger<HeldCommitReleaser> logger) : BackgroundService
{
    private const int DuePerPass = 50;
    private const int FramesPerRelease = 500;

    private readonly JetstreamEventDecoder _jetstreamDecoder = new(options.Value.MaxMessageBytes);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await readiness.WaitAsync(stoppingToken);
            using var timer = new PeriodicTimer(options.Value.ReleasePollInterval, time);
            do
            {
                try
                {
                    await PassAsync(stoppingToken);
                }
                catch (Exception ex) when (MySqlErrors.IsTransient(ex) && !stoppingToken.IsCancellationRequested)
                {
                    LogPassFailed(MySqlErrors.Describe(ex));
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>One look at every repository that is due; returns how many were looked at.</summary>
    public async Task<int> PassAsync(CancellationToken ct)
    {
        var due = await store.DueAsync(time.GetUtcNow().ToUnixTimeSeconds(), DuePerPass, ct);
        foreach (var did in due)
        {
            ct.ThrowIfCancellationRequested();
            await ReleaseAsync(did, ct);
        }
        return due.Count;
    }

    private async Task ReleaseAsync(string did, CancellationToken ct)
    {
        if (await store.GetAsync(did, ct) is not { } state || state.Status is not (RepoStatus.Parked or RepoStatus.Active)) return;
        var held = await store.HeldAsync(did, FramesPerRelease, options.Value.ReleaseMaxBytes, ct);
        if (held.Count == 0)
        {
            if (state.Status == RepoStatus.Parked)
            {
                var writes = new RepoWrites();
                writes.Activate(did);
                await WriteAsync(null, writes, ct);
            }
            return;
        }
        // One format at a time, oldest first (a source switched with events held): the next pass takes the rest.
        var jetstream = held[0].Format == HeldFormats.Jetstream;
        held = [.. held.TakeWhile(h => h.Format == held[0].Format)];
        var events = new List<StreamEvent>(held.Count);
        var undecodable = new List<long>();
        foreach (var frame in held)
        {
            try
            {
                events.Add(jetstream ? _jetstreamDecoder.Decode(frame.Frame) : decoder.DecodeRepoFrame(frame.Frame));
            }
            catch (StreamDecodeException)
            {
                undecodable.Add(frame.Seq); // it was decoded once: only a changed decoder gets here
            }
        }
        var release = jetstream
            ? await jetstreamVerifier.PrepareReleaseAsync(state, [.. events.OfType<CommitEvent>()], ct)
            : await verifier.PrepareReleaseAsync(held[0].Stream, state, events, ct);
        var repoWrites = release.Batch.Repos;
        var done = release.Done.Concat(undecodable).ToList();
        repoWrites.Release(did, done);
        var now = time.GetUtcNow();
        if (release.StoppedOnUnavailableKey)
        {
            // Jetstream: the author's PDS could not prove its events; relay: its signing key could not be had.
            var remaining = held.Select(h => h.Seq).Except(done).ToList();
            var attempts = state.Attempts + 1;
            var age = now.ToUnixTimeSeconds() - held.Min(h => h.HeldAt);
            if (attempts >= options.Value.ParkedMaxAttempts || age >= options.Value.ParkedMaxAge.TotalSeconds)
            {
                var reason = jetstream ? RejectionReasons.GaveUpPdsUnavailable : RejectionReasons.GaveUpKeyUnavailable;
                repoWrites.GiveUp(did, remaining, reason);
                LogGaveUp(did, remaining.Count, attempts, age, reason);
            }
            else
            {
                var delay = Delay(attempts);
                repoWrites.Park(did, jetstream ? RejectionReasons.PdsUnavailable : RejectionReasons.KeyUnavailable, attempts, (now + delay).ToUnixTimeSeconds());
                LogStillParked(did, jetstream ? "PDS" : "signing key", attempts, delay.TotalSeconds);
            }
        }
        else if (release.StillOpen && state.Status == RepoStatus.Parked)
        {
            repoWrites.Activate(did);
        }
        var outcome = await WriteAsync(release.Batch, repoWrites, ct);
        outcome.Add(release.Batch.SetAside);
        outcome.Record(metrics);
        repoWrites.Record(metrics);
        if (done.Count > 0) LogReleased(did, done.Count, release.Batch.Events.Count);
    }

    private Task<BatchOutcome> WriteAsync(PreparedBatch? batch, RepoWrites writes, CancellationToken ct) =>
        TransientRetry.RunAsync(
            c => writer.ApplyAsync(FirehoseStreams.RepoService, batch?.Events ?? [], batch?.Handles ?? new Dictionary<string, string?>(),
                cursor: null, time.GetUtcNow().ToUnixTimeSeconds(), c, writes),
            MySqlErrors.IsTransient, new Backoff(TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(10)), time,
            (ex, delay) => LogPassFailed(MySqlErrors.Describe(ex)), ct);

    /// <summary>The wait before retry <paramref name="attempts"/>+1: <see cref="FirehoseOptions.ParkedRetryFirst"/> doubling, capped.</summary>
    public TimeSpan Delay(int attempts)
    {
        var backoff = new Backoff(options.Value.ParkedRetryFirst, options.Value.ParkedRetryMax);
        var delay = backoff.Next();
        for (var i = 1; i < attempts; i++) delay = backoff.Next();
        return delay;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Repository {Did}: {Count} held frames judged again, {Applied} applied")]
    private partial void LogReleased(string did, int count, int applied);

    [LoggerMessage(Level = LogLevel.Information, Message = "Repository {Did}: {What} still unavailable (attempt {Attempts}); next try in {DelaySeconds} s")]
    private partial void LogStillParked(string did, string what, int attempts, double delaySeconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Repository {Did}: still unavailable after {Attempts} attempts over {AgeSeconds} s; {Count} held commits dropped ({Reason}), the repository is desynchronized until it is imported")]
    private partial void LogGaveUp(string did, int count, int attempts, long ageSeconds, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Releasing held commits failed ({ExceptionType}); retried at the next pass")]
    private partial void LogPassFailed(string exceptionType);
}
