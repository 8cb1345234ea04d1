using AtSync.Core.Settings;

namespace AtSync.QueueWorker.Sessions;

/// <summary>
/// Signs in as the forum account before the QueueWorker starts: a refused app password (or one of another account)
/// stops the service with one line naming the setting. A PDS that cannot be reached does not: the
/// <see cref="ForumAccountService"/> signs in when it can. The session made here is handed to that service.
/// </summary>
public sealed class ForumAccountStartupCheck(ForumAccountLogin login) : IStartupCheck
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private ForumSignIn.Signed? _signed;

    public async Task<string?> CheckAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        ForumSignIn result;
        try
        {
            result = await login.SignInAsync(timeout.Token, quietRefusal: true);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
        switch (result)
        {
            case ForumSignIn.Refused refused:
                return refused.Line;
            case ForumSignIn.Signed signed:
                Interlocked.Exchange(ref _signed, signed);
                break;
        }
        return null;
    }

    /// <summary>The session the check made, once (null when it made none or it was taken).</summary>
    public ForumSignIn.Signed? TakeSession() => Interlocked.Exchange(ref _signed, null);
}
