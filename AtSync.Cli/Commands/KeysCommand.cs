using System.CommandLine;
using AtSync.Core.Tokens;
using MySqlConnector;
using Spectre.Console;

namespace AtSync.Cli.Commands;

/// <summary>
/// <c>atsync keys reencrypt</c>: every stored token re-encrypted to <c>TOKEN_ENCRYPTION_KEY_VERSION</c>, in batches of
/// users committed one by one under the same row lock the QueueWorker's refresh takes. Resumable by construction: a
/// run only touches rows still under another version, so an interrupted run (Ctrl+C, a kill, a lost connection) is
/// finished by running it again. Then the old version can leave <c>TOKEN_ENCRYPTION_KEYS</c>.
/// </summary>
public static class KeysCommand
{
    /// <summary>Columns that hold sealed tokens (those the database has: later migrations may add key material).</summary>
    private static readonly string[] SealedColumns = ["access_token", "refresh_token", "dpop_private_key", "dpop_key"];

    public static Command Create(AtSyncCommand.Runner run)
    {
        var command = new Command("keys", "Token encryption keys");
        var batch = new Option<int>("--batch-size") { Description = "Users per transaction", DefaultValueFactory = _ => 200 };
        var pause = new Option<string?>("--pause") { Description = "Wait between batches, to spare a busy database (e.g. 50ms)" };
        var reencrypt = new Command("reencrypt", "Re-encrypt every stored token with the current key version (resumable)") { batch, pause };
        reencrypt.SetAction(run.Action(async (context, parse, cancellationToken) =>
        {
            var wait = TimeSpan.Zero;
            if (parse.GetValue(pause) is { } p && !Durations.TryParse(p, out wait)) return context.Fail(ExitCodes.Usage, "--pause is not a duration");
            return await ReencryptAsync(context, Math.Clamp(parse.GetValue(batch), 1, 10_000), wait, cancellationToken);
        }));
        command.Subcommands.Add(reencrypt);
        return command;
    }

    private static async Task<int> ReencryptAsync(CliContext context, int batchSize, TimeSpan pause, CancellationToken cancellationToken)
    {
        using var cipher = context.Environment.Cipher();
        var t = context.Environment.Tables;
        var prefix = cipher.CurrentVersion + ":";
        await using var connection = await context.Environment.OpenAsync(cancellationToken);
        var columns = await ExistingColumnsAsync(connection, t.Users, cancellationToken);
        var stale = string.Join(" OR ", columns.Select(c => $"({c} IS NOT NULL AND {c} <> '' AND {c} NOT LIKE @prefix)"));
        var total = await CountAsync(connection, $"SELECT COUNT(*) FROM {t.Users} WHERE {stale}", prefix, cancellationToken);

        long done = 0, failed = 0, lastId = -1;
        async Task<bool> BatchAsync()
        {
            await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.ReadCommitted, cancellationToken);
            var rows = new List<(long Id, string?[] Values)>();
            await using (var select = new MySqlCommand($"""
                SELECT user_id, {string.Join(", ", columns)} FROM {t.Users}
                WHERE user_id > @last AND ({stale}) ORDER BY user_id LIMIT {batchSize} FOR UPDATE
                """, connection, transaction))
            {
                select.Parameters.AddWithValue("@last", lastId);
                select.Parameters.AddWithValue("@prefix", prefix + "%");
                await using var reader = await select.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    rows.Add((reader.GetInt64(0), Enumerable.Range(1, columns.Count).Select(i => reader.IsDBNull(i) ? null : reader.GetString(i)).ToArray()));
                }
            }
            if (rows.Count == 0) return false;
            foreach (var (id, values) in rows)
            {
                lastId = id;
                string?[] sealedValues;
                try
                {
                    sealedValues = values.Select(v => string.IsNullOrEmpty(v) || !cipher.NeedsReencryption(v) ? v : cipher.Reencrypt(v)).ToArray();
                }
                catch (TokenCipherException)
                {
                    failed++; // an unknown key version or a damaged token: left as it is, reported
                    continue;
                }
                await using var update = new MySqlCommand(
                    $"UPDATE {t.Users} SET {string.Join(", ", columns.Select((c, i) => $"{c} = @v{i}"))} WHERE user_id = @id", connection, transaction);
                for (var i = 0; i < columns.Count; i++) update.Parameters.AddWithValue($"@v{i}", sealedValues[i]);
                update.Parameters.AddWithValue("@id", id);
                await update.ExecuteNonQueryAsync(cancellationToken);
                done++;
            }
            await transaction.CommitAsync(cancellationToken);
            if (pause > TimeSpan.Zero) await Task.Delay(pause, cancellationToken);
            return true;
        }

        if (context.Json || total == 0)
        {
            while (await BatchAsync()) { }
        }
        else
        {
            await context.Console.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .StartAsync(async progress =>
                {
                    var task = progress.AddTask($"re-encrypting to {cipher.CurrentVersion}", maxValue: total);
                    while (true)
                    {
                        var before = done + failed;
                        if (!await BatchAsync()) break;
                        task.Increment(done + failed - before);
                    }
                    task.Value = task.MaxValue;
                });
        }

        var remaining = await CountAsync(connection, $"SELECT COUNT(*) FROM {t.Users} WHERE {stale}", prefix, cancellationToken);
        if (context.Json) context.WriteJson(new { key_version = cipher.CurrentVersion, reencrypted_users = done, failed_users = failed, remaining_users = remaining });
        else context.WriteLine($"{done} users re-encrypted to {cipher.CurrentVersion}; {failed} could not be decrypted; {remaining} still under another version");
        return failed == 0 && remaining == 0 ? ExitCodes.Ok : ExitCodes.Failed;
    }

    private static async Task<List<string>> ExistingColumnsAsync(MySqlConnection connection, string table, CancellationToken cancellationToken)
    {
        await using var command = new MySqlCommand(
            "SELECT COLUMN_NAME FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = @t", connection);
        command.Parameters.AddWithValue("@t", table);
        var present = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) present.Add(reader.GetString(0));
        return SealedColumns.Where(present.Contains).ToList();
    }

    private static async Task<long> CountAsync(MySqlConnection connection, string sql, string prefix, CancellationToken cancellationToken)
    {
        await using var command = new MySqlCommand(sql, connection);
        command.Parameters.AddWithValue("@prefix", prefix + "%");
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken));
    }
}
