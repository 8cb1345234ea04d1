using System.Net;
using AtSync.AtProto.Xrpc;
using AtSync.Core.Settings;
using AtSync.QueueWorker.Delivery;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AtSync.QueueWorker.Sessions;

/// <summary>What signing in as the forum account gave.</summary>
public abstract record ForumSignIn
{
    private ForumSignIn() { }

    /// <summary>A new session of <c>FORUM_DID</c>. Holds secrets (the output's <c>ToString</c> redacts them).</summary>
    public sealed record Signed(SessionOutput Session) : ForumSignIn;

    /// <summary>The PDS refused the credentials, or they belong to another account: <paramref name="Line"/> names the setting.</summary>
    public sealed record Refused(string Line) : ForumSignIn;

    /// <summary>The PDS could not be asked now (down, timeout, rate limit): try again later.</summary>
    public sealed record Unavailable(string Error) : ForumSignIn;
}

/// <summary>
/// Signs in as the forum's own account with its app password (<c>com.atproto.server.createSession</c> on
/// <c>FORUM_PDS_URL</c>, as <c>FORUM_HANDLE</c> or else <c>FORUM_DID</c>). Used at start (a refused password stops the
/// service) and whenever the stored session's refresh token is refused (a new session replaces it).
/// </summary>
public sealed partial class ForumAccountLogin(
    IOptions<ForumOptions> forum, IOptions<ForumAccountOptions> account, PdsClients pds, ILogger<ForumAccountLogin> logger)
{
    /// <summary>Credential errors: retrying with the same password cannot help.</summary>
    private static readonly HashSet<HttpStatusCode> Refusals = [HttpStatusCode.BadRequest, HttpStatusCode.Unauthorized, HttpStatusCode.Forbidden];

    public string Did => forum.Value.Did;

    public Uri PdsUrl => new(forum.Value.PdsUrl);

    private string Identifier => account.Value.Handle.Length > 0 ? account.Value.Handle : forum.Value.Did;

    private string IdentifierSetting => account.Value.Handle.Length > 0 ? SettingNames.ForumHandle : SettingNames.ForumDid;

    /// <param name="quietRefusal">The start-up check reports a refusal as the service's one failure line, not as a log line too.</param>
    public async Task<ForumSignIn> SignInAsync(CancellationToken cancellationToken, bool quietRefusal = false)
    {
        SessionOutput session;
        try
        {
            session = (await pds.For(PdsUrl).CreateSessionAsync(Identifier, account.Value.AppPassword, cancellationToken)).Value;
        }
        catch (XrpcException ex) when (ex.StatusCode is { } status && Refusals.Contains(status))
        {
            if (!quietRefusal) LogRefused(Did, ex.Error, (int)status);
            return new ForumSignIn.Refused($"{SettingNames.ForumAppPassword} was refused by the forum's PDS for {IdentifierSetting} ({ex.Error})");
        }
        catch (XrpcException ex)
        {
            LogUnavailable(Did, ex.Error, (int?)ex.StatusCode);
            return new ForumSignIn.Unavailable(ex.Message);
        }
        if (!string.Equals(session.Did, Did, StringComparison.Ordinal))
        {
            if (!quietRefusal) LogOtherAccount(Did, session.Did);
            return new ForumSignIn.Refused($"{IdentifierSetting} and {SettingNames.ForumAppPassword} sign in to {session.Did}, not to {SettingNames.ForumDid}");
        }
        if (session.Active == false)
        {
            if (!quietRefusal) LogInactive(Did, session.Status ?? "inactive");
            return new ForumSignIn.Refused($"{SettingNames.ForumDid}'s account is not active on the forum's PDS ({session.Status ?? "inactive"})");
        }
        LogSignedIn(Did);
        return new ForumSignIn.Signed(session);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Signed in as the forum account {Did} (createSession)")]
    private partial void LogSignedIn(string did);

    [LoggerMessage(Level = LogLevel.Error, Message = "The forum's PDS refused the app password of the forum account {Did} ({Error}, status {Status})")]
    private partial void LogRefused(string did, string error, int status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Signing in as the forum account {Did} failed ({Error}, status {Status}); will retry")]
    private partial void LogUnavailable(string did, string error, int? status);

    [LoggerMessage(Level = LogLevel.Error, Message = "The forum account's credentials sign in to {Other}, not to FORUM_DID {Did}")]
    private partial void LogOtherAccount(string did, string other);

    [LoggerMessage(Level = LogLevel.Error, Message = "The forum account {Did} is not active on its PDS ({Status})")]
    private partial void LogInactive(string did, string status);
}
