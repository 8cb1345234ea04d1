using MySqlConnector;

namespace AtSync.Core.Storage;

/// <summary>
/// Whether this database account may create the outbox triggers. With binary logging on (MySQL 8's default),
/// MySQL and MariaDB allow <c>CREATE TRIGGER</c> only to accounts with <c>SUPER</c>, unless
/// <c>log_bin_trust_function_creators</c> is on (error 1419 otherwise). AtSync's account is not <c>SUPER</c>
/// (docker/init.sql), so the server must trust it: docker/mysqld.args sets it on mysqld's command line.
/// </summary>
public static class TriggerPermission
{
    /// <summary>MySQL's and MariaDB's ER_BINLOG_CREATE_ROUTINE_NEED_SUPER.</summary>
    public const int NeedSuperErrorCode = 1419;

    /// <summary>What to change, in one line: the services log it once and report it as the schema check's description.</summary>
    public const string Problem =
        "AtSync cannot create its triggers: the MySQL server has binary logging on, log_bin_trust_function_creators OFF " +
        "and the database account has no SUPER privilege. Set log_bin_trust_function_creators=1 (mysqld " +
        "--log-bin-trust-function-creators=1, or SET PERSIST log_bin_trust_function_creators = 1 as an administrator); " +
        "AtSync retries and continues by itself.";

    /// <summary><see cref="Problem"/> when the server would refuse this account's <c>CREATE TRIGGER</c>, else null.</summary>
    public static async Task<string?> CheckAsync(MySqlConnection connection, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        bool logBin, trusted;
        string account;
        await using (var variables = new MySqlCommand("SELECT @@GLOBAL.log_bin, @@GLOBAL.log_bin_trust_function_creators, CURRENT_USER()", connection))
        await using (var reader = await variables.ExecuteReaderAsync(cancellationToken))
        {
            await reader.ReadAsync(cancellationToken);
            logBin = Convert.ToInt64(reader.GetValue(0)) != 0;
            trusted = Convert.ToInt64(reader.GetValue(1)) != 0;
            account = reader.GetString(2);
        }
        if (!logBin || trusted) return null;
        return await HasSuperAsync(connection, account, cancellationToken) ? null : Problem;
    }

    private static async Task<bool> HasSuperAsync(MySqlConnection connection, string account, CancellationToken cancellationToken)
    {
        // CURRENT_USER() is user@host; information_schema spells the grantee 'user'@'host'.
        var at = account.LastIndexOf('@');
        var grantee = at < 0 ? $"'{account}'" : $"'{account[..at]}'@'{account[(at + 1)..]}'";
        await using var command = new MySqlCommand(
            "SELECT COUNT(*) FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = @grantee AND PRIVILEGE_TYPE = 'SUPER'", connection);
        command.Parameters.AddWithValue("@grantee", grantee);
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken)) > 0;
    }
}

/// <summary>The schema cannot be applied until the operator changes the server (the message says what).</summary>
public sealed class SchemaBlockedException(string message) : Exception(message);
