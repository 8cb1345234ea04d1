using MySqlConnector;

namespace AtSync.Core.Storage;

/// <summary>
/// The one classification of database failures both services retry on. Exception messages are never logged from
/// here (MySqlConnector's can name hosts and users): <see cref="Describe"/> gives type and error code only.
/// </summary>
public static class MySqlErrors
{
    /// <summary>
    /// Worth running the same work again: lost or refused connections, the server gone or shutting down, deadlocks,
    /// lock wait and command timeouts, an interrupted query; and the socket, I/O, timeout and pool errors
    /// (<see cref="InvalidOperationException"/>) a dropped connection surfaces as.
    /// </summary>
    public static bool IsTransient(Exception exception) => exception switch
    {
        MySqlException mysql => mysql.IsTransient
            || IsConflict(mysql)
            || mysql.ErrorCode is MySqlErrorCode.UnableToConnectToHost or MySqlErrorCode.CommandTimeoutExpired
                or MySqlErrorCode.ServerShutdown or MySqlErrorCode.QueryInterrupted
            || (int)mysql.ErrorCode is 2006 or 2013, // CR_SERVER_GONE_ERROR, CR_SERVER_LOST
        InvalidOperationException or System.Net.Sockets.SocketException or IOException or TimeoutException => true,
        _ => false,
    };

    /// <summary>A deadlock victim or a lock wait timeout: InnoDB rolled the statement or transaction back, it can run again.</summary>
    public static bool IsConflict(Exception exception) =>
        exception is MySqlException { ErrorCode: MySqlErrorCode.LockDeadlock or MySqlErrorCode.LockWaitTimeout };

    /// <summary>Exception type and MySQL error code, for logs: never the message.</summary>
    public static string Describe(Exception exception) =>
        exception is MySqlException mysql ? $"{exception.GetType().Name} {mysql.ErrorCode} ({mysql.Number})" : exception.GetType().Name;
}
