using System.Collections.Concurrent;

namespace AtSync.QueueWorker.Sessions;

/// <summary>
/// The sessions of one batch's users: opened once at the start, refreshed at most once per user however many of the
/// user's rows the PDS rejects, and the users who must sign in again (their other pending rows are dead-lettered).
/// </summary>
public sealed class BatchSessions(UserSessions sessions)
{
    private readonly ConcurrentDictionary<string, SessionResult> _current = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task<SessionResult>>> _refreshes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _signInRequired = new(StringComparer.Ordinal);

    /// <summary>Users whose refresh token is gone, with the reason.</summary>
    public IReadOnlyDictionary<string, string> SignInRequired => _signInRequired;

    public async Task OpenAsync(IReadOnlyCollection<string> dids, CancellationToken cancellationToken)
    {
        foreach (var (did, result) in await sessions.GetAsync(dids, cancellationToken)) _current[did] = Note(did, result);
    }

    /// <summary>The session (or problem) <see cref="OpenAsync"/> found for <paramref name="did"/>.</summary>
    public SessionResult For(string did) => _current[did];

    /// <summary>A new session after the PDS rejected <paramref name="stale"/>'s token; one refresh per user per batch.</summary>
    public async Task<SessionResult> RefreshAsync(UserSession stale, CancellationToken cancellationToken)
    {
        var refresh = _refreshes.GetOrAdd(stale.Did, _ => new Lazy<Task<SessionResult>>(() => sessions.RefreshAsync(stale, cancellationToken)));
        return Note(stale.Did, await refresh.Value);
    }

    private SessionResult Note(string did, SessionResult result)
    {
        if (result is SessionProblem.SignInRequired signIn) _signInRequired.TryAdd(did, signIn.Reason);
        return result;
    }
}
