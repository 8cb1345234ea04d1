using AtSync.Core.Resilience;
using AtSync.Core.Storage;
using AtSync.QueueWorker.Boards;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace AtSync.QueueWorker.Sessions;

/// <summary>
/// Keeps the forum account signed in and its boards in step: once the schema is there it stores the session the
/// start-up check made (or, when the PDS could not be reached then and no session is stored, signs in, retrying with
/// backoff), then reconciles the boards (<see cref="BoardReconciler"/>) at once and every
/// <see cref="QueueWorkerOptions.BoardReconcileInterval"/>. The queue worker loop publishes what that enqueues.
/// </summary>
public sealed partial class ForumAccountService(
    ForumAccountStartupCheck startup,
    ForumAccountLogin login,
    ForumAccountStore store,
    BoardReconciler reconciler,
    DatabaseReadiness readiness,
    IOptions<QueueWorkerOptions> options,
    TimeProvider time,
    ILogger<ForumAccountService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await readiness.WaitAsync(stoppingToken);
            await EnsureSessionAsync(stoppingToken);
            while (!stoppingToken.IsCancellationRequested)
            {
                await ReconcileAsync(stoppingToken);
                await Task.Delay(options.Value.BoardReconcileInterval, time, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task EnsureSessionAsync(CancellationToken stoppingToken)
    {
        var backoff = new Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(5));
        var signed = startup.TakeSession();
        while (true)
        {
            try
            {
                switch (await store.StateAsync(login.Did, stoppingToken))
                {
                    case ForumAccountStore.State.LinkedByMember:
                        LogLinkedByMember(login.Did);
                        break;
                    case ForumAccountStore.State.Stored when signed is null:
                        return;
                    default:
                        if (signed is null)
                        {
                            switch (await login.SignInAsync(stoppingToken))
                            {
                                case ForumSignIn.Signed now:
                                    signed = now;
                                    break;
                                case ForumSignIn.Refused refused:
                                    LogStillRefused(refused.Line);
                                    break;
                            }
                        }
                        if (signed is not null)
                        {
                            await store.SaveAsync(signed.Session, login.PdsUrl, stoppingToken);
                            LogStored(login.Did);
                            return;
                        }
                        break;
                }
            }
            catch (Exception ex) when (ex is MySqlException || MySqlErrors.IsTransient(ex))
            {
                LogDatabaseFailure(ex.GetType().Name);
            }
            await Task.Delay(backoff.Next(), time, stoppingToken);
        }
    }

    private async Task ReconcileAsync(CancellationToken stoppingToken)
    {
        try
        {
            var result = await reconciler.ReconcileAsync(login.Did, stoppingToken);
            if (result.Creates + result.Deletes + result.Rewrites > 0) LogReconciled(result.Creates, result.Deletes, result.Rewrites);
        }
        catch (Exception ex) when (ex is MySqlException || MySqlErrors.IsTransient(ex))
        {
            LogDatabaseFailure(ex.GetType().Name);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Stored the session of the forum account {Did}")]
    private partial void LogStored(string did);

    [LoggerMessage(Level = LogLevel.Error, Message = "Cannot sign in as the forum account: {Problem}; retrying")]
    private partial void LogStillRefused(string problem);

    [LoggerMessage(Level = LogLevel.Error, Message = "The forum's DID {Did} is linked by a phpBB member in atproto_users; unlink it there so the forum account can keep its session")]
    private partial void LogLinkedByMember(string did);

    [LoggerMessage(Level = LogLevel.Information, Message = "Board reconcile enqueued {Creates} board records to publish, {Deletes} to delete and {Rewrites} to rewrite for their parent's new CID")]
    private partial void LogReconciled(int creates, int deletes, int rewrites);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The forum account service could not reach the database ({ExceptionType}); retrying")]
    private partial void LogDatabaseFailure(string exceptionType);
}
