using System.Text.RegularExpressions;
using MySqlConnector;

namespace AtSync.Tests.Infrastructure;

/// <summary>The character set phpBB's tables are in.</summary>
public enum PhpbbCharset
{
    /// <summary>As phpBB 3.3's installer makes them: <c>utf8</c> (3-byte, utf8mb3), <c>utf8_bin</c> and <c>utf8_unicode_ci</c>.</summary>
    Installer,

    /// <summary>As an operator who converted them has them: <c>utf8mb4_bin</c> and <c>utf8mb4_unicode_ci</c>.</summary>
    Utf8Mb4,
}

/// <summary>
/// Creates phpBB 3.3's <c>users</c>, <c>forums</c>, <c>topics</c>, <c>posts</c> tables and the ban and moderator tables exactly as phpBB's installer
/// does on MySQL (<c>phpbb33-schema.sql</c>, generated from phpBB's own schema code), under the given prefix.
/// </summary>
public static partial class PhpbbSchema
{
    private static readonly Lazy<string> Script = new(() =>
    {
        using var stream = typeof(PhpbbSchema).Assembly.GetManifestResourceStream("AtSync.Tests.Infrastructure.phpbb33-schema.sql")
            ?? throw new InvalidOperationException("phpbb33-schema.sql is not embedded in the test assembly.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    });

    public static async Task CreateAsync(string connectionString, string prefix = "phpbb_", PhpbbCharset charset = PhpbbCharset.Installer)
    {
        await using var connection = new MySqlConnection(connectionString);
        await connection.OpenAsync().ConfigureAwait(false);
        foreach (var statement in Statements(prefix, charset))
        {
            await using var command = new MySqlCommand(statement, connection);
            await command.ExecuteNonQueryAsync().ConfigureAwait(false);
        }
    }

    public static IEnumerable<string> Statements(string prefix, PhpbbCharset charset = PhpbbCharset.Installer)
    {
        var script = string.Join('\n', Script.Value.Split('\n').Where(line => !line.TrimStart().StartsWith("--", StringComparison.Ordinal)));
        if (charset == PhpbbCharset.Utf8Mb4)
        {
            script = script.Replace("CHARACTER SET `utf8` COLLATE `utf8_bin`", "CHARACTER SET `utf8mb4` COLLATE `utf8mb4_bin`", StringComparison.Ordinal)
                .Replace("COLLATE utf8_unicode_ci", "COLLATE utf8mb4_unicode_ci", StringComparison.Ordinal);
        }
        return script.Split(';')
            .Select(statement => statement.Trim())
            .Where(statement => statement.Length > 0)
            .Select(statement => TableName().Replace(statement, match => match.Groups[1].Value + prefix));
    }

    [GeneratedRegex(@"^((?:CREATE|ALTER) TABLE )phpbb_")]
    private static partial Regex TableName();
}
