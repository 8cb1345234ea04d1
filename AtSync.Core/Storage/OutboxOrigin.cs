using MySqlConnector;

namespace AtSync.Core.Storage;

/// <summary>
/// The transactional outbox's echo guard. The queue migrations' triggers on <c>phpbb_posts</c> enqueue a write only
/// when the session variable <c>@atsync_origin</c> is NULL, so a service that writes phpBB posts which came from the
/// network (the Firehose) marks its session first and its rows never travel back out. MySqlConnector resets session
/// state when a pooled connection is reused, so the mark lasts for the connection's current use only.
/// </summary>
public static class OutboxOrigin
{
    /// <summary>The session variable the triggers read.</summary>
    public const string SessionVariable = "@atsync_origin";

    /// <summary>
    /// The variable as AtSync's SQL text spells it: inside a version comment (<c>/*!00000 … */</c>), which MySQL 8 and
    /// MariaDB execute as SQL but MySqlConnector skips — it would otherwise take <c>@atsync_origin</c> for a command
    /// parameter and refuse it unless the connection string sets <c>AllowUserVariables</c> (the AppHost's does not).
    /// </summary>
    public const string QuotedSessionVariable = "/*!00000 @atsync_origin */";

    public const string Firehose = "firehose";

    /// <summary>Marks the session: phpBB post changes made on it enqueue nothing.</summary>
    public static async Task MarkSessionAsync(MySqlConnection connection, string origin, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentException.ThrowIfNullOrEmpty(origin);
        await using var command = new MySqlCommand($"SET {QuotedSessionVariable} = '{Escape(origin)}'", connection);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Clears the mark: later changes on this session are enqueued again.</summary>
    public static async Task ClearSessionAsync(MySqlConnection connection, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        await using var command = new MySqlCommand($"SET {QuotedSessionVariable} = NULL", connection);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static string Escape(string value) =>
        value.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.')
            ? value
            : throw new ArgumentException("An origin is letters, digits, '_', '-' or '.'.", nameof(value));
}
