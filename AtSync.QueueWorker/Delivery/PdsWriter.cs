using System.Net;
using AtSync.AtProto.Xrpc;
using AtSync.Core.Forum;
using AtSync.QueueWorker.Queue;
using AtSync.QueueWorker.Sessions;

namespace AtSync.QueueWorker.Delivery;

/// <summary>
/// Sends a planned write to the user's PDS and classifies what happened into a <see cref="RowOutcome"/>: written,
/// deferred (write budget, 429), failed and retried later (transport, timeout, server error, expired token after a
/// refresh), or dead-lettered (the PDS rejected the write). An expired token is refreshed once and the write sent again.
/// </summary>
public sealed class PdsWriter(PdsClients pds, RateBudget budget, RetrySchedule retry, WritePlanner planner, QueueMetrics metrics, TimeProvider time)
{
    /// <summary>Takes the write's cost from the user's budget; a <see cref="RowOutcome.Deferred"/> when it would overdraw it.</summary>
    public RowOutcome.Deferred? Reserve(UserSession session, PlannedWrite write)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(write);
        if (budget.TryReserve(session.BudgetKey, write.Operation) is not { } until) return null;
        metrics.Failed("rate_budget");
        return new RowOutcome.Deferred("waiting for the PDS write budget of this user", until);
    }

    /// <summary>Sends a reserved write.</summary>
    public async Task<RowOutcome> SendAsync(QueueRow row, PlannedWrite write, UserSession session, BatchSessions sessions, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(row);
        ArgumentNullException.ThrowIfNull(write);
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(sessions);
        var key = session.BudgetKey;
        try
        {
            return await SendOnceAsync(row, session, write, ct);
        }
        catch (XrpcException ex) when (IsAuthFailure(ex))
        {
            switch (await sessions.RefreshAsync(session, ct))
            {
                case SessionResult.Opened opened:
                    try
                    {
                        return await SendOnceAsync(row, opened.Session, write, ct);
                    }
                    catch (XrpcException again)
                    {
                        return Classify(row, key, write.Operation, again);
                    }
                case SessionProblem problem:
                    budget.Refund(key, write.Operation);
                    var decided = planner.ForSessionProblem(row, problem, time.GetUtcNow());
                    if (decided.FailureReason is { } reason) metrics.Failed(reason);
                    return decided.Outcome;
                default:
                    throw new InvalidOperationException("unknown session result");
            }
        }
        catch (XrpcException ex)
        {
            return Classify(row, key, write.Operation, ex);
        }
    }

    private async Task<RowOutcome> SendOnceAsync(QueueRow row, UserSession session, PlannedWrite write, CancellationToken ct)
    {
        var client = session.DpopKey is { } dpopKey ? pds.For(session.PdsUrl).WithDpop(dpopKey) : pds.For(session.PdsUrl);
        var started = time.GetTimestamp();
        var success = false;
        try
        {
            RowOutcome outcome;
            if (write.Operation == QueueOperation.Delete)
            {
                await client.DeleteRecordAsync(new DeleteRecordInput { Repo = session.Did, Collection = row.Collection, Rkey = write.Rkey },
                    session.AccessToken, ct);
                outcome = new RowOutcome.Done(null, null, false);
            }
            else
            {
                var record = XrpcRecord.FromUtf8(write.Record.Span);
                var response = write.Operation == QueueOperation.Create && !row.MayHaveBeenWritten
                    ? await client.CreateRecordAsync(new CreateRecordInput { Repo = session.Did, Collection = row.Collection, Rkey = write.Rkey, Record = record },
                        session.AccessToken, ct)
                    // A retried create goes out as a put at the same rkey: if the first attempt reached the PDS this replaces
                    // the record with itself instead of creating a second one.
                    : await client.PutRecordAsync(new PutRecordInput { Repo = session.Did, Collection = row.Collection, Rkey = write.Rkey, Record = record },
                        session.AccessToken, ct);
                outcome = new RowOutcome.Done(response.Value.Uri, response.Value.Cid, write.IsTopicStarter, write.Slug, write.ParentCid);
            }
            success = true;
            return outcome;
        }
        finally
        {
            metrics.WriteDuration(write.Operation, time.GetElapsedTime(started), success);
        }
    }

    private static bool IsAuthFailure(XrpcException ex) =>
        ex.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.Unauthorized && ex.Error is "ExpiredToken" or "InvalidToken";

    private RowOutcome Classify(QueueRow row, string key, QueueOperation operation, XrpcException ex)
    {
        var now = time.GetUtcNow();
        if (ex.StatusCode == HttpStatusCode.TooManyRequests)
        {
            budget.Refund(key, operation);
            var until = ex.RateLimit?.RetryAt(now) ?? ex.RateLimit?.Reset ?? now + TimeSpan.FromSeconds(60);
            if (until <= now) until = now + TimeSpan.FromSeconds(1);
            budget.BlockUntil(key, until);
            metrics.Failed("rate_limited");
            return new RowOutcome.Deferred($"rate limited by the PDS until {until:O}", until);
        }
        // use_dpop_nonce here means the server wanted a nonce again right after the DPoP handler's one retry: try later.
        if (ex.IsTransient || ex.Kind == XrpcErrorKind.InvalidResponse || IsAuthFailure(ex) || ex.Error == "use_dpop_nonce")
        {
            var reason = ex.Kind switch
            {
                XrpcErrorKind.Transport => "transport",
                XrpcErrorKind.Timeout => "timeout",
                XrpcErrorKind.InvalidResponse => "invalid_response",
                _ => IsAuthFailure(ex) ? "auth" : "server_error",
            };
            metrics.Failed(reason);
            return new RowOutcome.Failed($"PDS write failed ({reason})", ex.Message, now + retry.DelayAfter(row.Attempts));
        }
        metrics.Failed("rejected");
        return new RowOutcome.DeadLetter("the PDS rejected the write", ex.Message);
    }
}
