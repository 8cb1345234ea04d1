using MySqlConnector;

namespace AtSync.Tests.Infrastructure;

/// <summary>
/// Creates phpBB 3.3's <c>users</c>, <c>forums</c>, <c>topics</c> and <c>posts</c> tables, as phpBB's installer would
/// (definitions in <c>phpbb33-schema.sql</c>, derived from phpBB's own schema), under the given prefix.
/// </summary>
public static class PhpbbSchema
{
    private static readonly Lazy<string> Script = new(() =>
    {
        using var stream = typeof(PhpbbSchema).Assembly.GetManifestResourceStream("AtSync.Tests.Infrastructure.phpbb33-schema.sql")
            ?? throw new InvalidOperationException("phpbb33-schema.sql is not embedded in the test assembly.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    });

    public static async Task CreateAsync(string connectionString, string prefix = "phpbb_")
    {
        await using var connection = new MySqlConnection(connectionString);
        await connection.OpenAsync().ConfigureAwait(false);
        foreach (var statement in Statements(prefix))
        {
            await using var command = new MySqlCommand(statement, connection);
            await command.ExecuteNonQueryAsync().ConfigureAwait(false);
        }
    }

    public static IEnumerable<string> Statements(string prefix) =>
        Script.Value.Split(';')
            .Select(part => string.Join('\n', part.Split('\n').Where(line => !line.TrimStart().StartsWith("--", StringComparison.Ordinal))).Trim())
            .Where(statement => statement.Length > 0)
            .Select(statement => statement.Replace("CREATE TABLE phpbb_", "CREATE TABLE " + prefix, StringComparison.Ordinal));
}
