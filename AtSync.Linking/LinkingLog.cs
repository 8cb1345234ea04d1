namespace AtSync.Linking;

/// <summary>Every log line of the linking service. DIDs and issuers only: never a token, key, code or state.</summary>
internal static partial class LinkingLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "phpBB user {UserId} started linking {Did} at {Issuer}")]
    public static partial void Started(ILogger logger, long userId, string did, string issuer);

    [LoggerMessage(Level = LogLevel.Information, Message = "phpBB user {UserId} linked {Did} (scope {Scope})")]
    public static partial void Linked(ILogger logger, long userId, string did, string scope);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A linking step was refused: {Reason}")]
    public static partial void Refused(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "An OAuth step failed ({Error}): {Message}")]
    public static partial void OAuthFailed(ILogger logger, string error, string message);

    [LoggerMessage(Level = LogLevel.Information, Message = "phpBB user {UserId} unlinked their AT account (revoked at the server: {Revoked})")]
    public static partial void Unlinked(ILogger logger, long userId, bool revoked);
}
