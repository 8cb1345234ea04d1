using Spectre.Console;
using System.CommandLine;
using MySqlConnector;

namespace AtSync.Cli.Commands;

/// <summary><c>atsync dead-letters list|retry|purge</c>: the queue rows the worker gave up on.</summary>
public static class DeadLettersCommand
{
    public static Command Create(AtSyncCommand.Runner run)
    {
        var command = new Command("dead-letters", "List, requeue or remove dead-lettered queue rows");
        command.Subcommands.Add(List(run));
        command.Subcommands.Add(Retry(run));
        command.Subcommands.Add(Purge(run));
        return command;
    }

    private static Command List(AtSyncCommand.Runner run)
    {
        var limit = new Option<int>("--limit") { Description = "At most this many rows (newest first)", DefaultValueFactory = _ => 100 };
        var command = new Command("list", "Dead letters with their last error") { limit };
        command.SetAction(run.Action(async (context, parse, cancellationToken) =>
        {
            var t = context.Environment.Tables;
            await using var connection = await context.Environment.OpenAsync(cancellationToken);
            await using var query = new MySqlCommand($"""
                SELECT id, operation, collection, user_did, local_id, attempts, last_error, updated_at
                FROM {t.Queue} WHERE status = 'dead_letter' ORDER BY id DESC LIMIT @limit
                """, connection);
            query.Parameters.AddWithValue("@limit", Math.Clamp(parse.GetValue(limit), 1, 100_000));
            var rows = new List<(long Id, string Operation, string Collection, string Did, long? PostId, int Attempts, string? Error, long UpdatedAt)>();
            await using (var reader = await query.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    rows.Add((reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetInt64(4),
                        reader.GetInt32(5), reader.IsDBNull(6) ? null : reader.GetString(6), reader.GetInt64(7)));
                }
            }
            if (context.Json)
            {
                context.WriteJson(rows.Select(r => new
                {
                    id = r.Id, operation = r.Operation, collection = r.Collection, user_did = r.Did, post_id = r.PostId, attempts = r.Attempts,
                    last_error = r.Error, updated_at = r.UpdatedAt,
                }));
                return ExitCodes.Ok;
            }
            var table = CliContext.NewTable("id", "operation", "user", "post", "attempts", "last error", "updated");
            foreach (var r in rows)
            {
                table.AddRow(CliContext.Cell(r.Id), CliContext.Cell(r.Operation), CliContext.Cell(r.Did), CliContext.Cell(r.PostId), CliContext.Cell(r.Attempts),
                    CliContext.Cell(r.Error), CliContext.Cell(CliContext.FromUnix(r.UpdatedAt)?.ToString("u")));
            }
            context.Write(table);
            context.WriteLine($"{rows.Count} dead letters");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static (Option<long[]> Ids, Option<bool> All) Selection(string verb) =>
        (new Option<long[]>("--id") { Description = $"Queue row ids to {verb} (repeatable)", AllowMultipleArgumentsPerToken = true },
         new Option<bool>("--all") { Description = $"{verb} every dead letter" });

    private static Command Retry(AtSyncCommand.Runner run)
    {
        var (ids, all) = Selection("retry");
        var command = new Command("retry", "Put dead letters back in the queue (pending, attempts reset, due now); the worker sends them") { ids, all };
        command.SetAction(run.Action(async (context, parse, cancellationToken) =>
        {
            if (Where(parse.GetValue(ids), parse.GetValue(all)) is not { } where) return context.Fail(ExitCodes.Usage, "give --id ID... or --all");
            var t = context.Environment.Tables;
            await using var connection = await context.Environment.OpenAsync(cancellationToken);
            await using var update = new MySqlCommand($"""
                UPDATE {t.Queue} SET status = 'pending', attempts = 0, next_retry_at = 0, updated_at = @now,
                  last_error = CONCAT('requeued by atsync; was: ', COALESCE(last_error, ''))
                WHERE status = 'dead_letter'{where}
                """, connection);
            update.Parameters.AddWithValue("@now", context.Now.ToUnixTimeSeconds());
            var changed = await update.ExecuteNonQueryAsync(cancellationToken);
            return Report(context, "requeued", changed, parse.GetValue(ids));
        }));
        return command;
    }

    private static Command Purge(AtSyncCommand.Runner run)
    {
        var (ids, all) = Selection("purge");
        var olderThan = new Option<string?>("--older-than") { Description = "Only dead letters last touched longer ago than this (e.g. 30d)" };
        var command = new Command("purge", "Delete dead letters for good") { ids, all, olderThan };
        command.SetAction(run.Action(async (context, parse, cancellationToken) =>
        {
            var age = parse.GetValue(olderThan);
            TimeSpan duration = default;
            if (age is not null && !Durations.TryParse(age, out duration)) return context.Fail(ExitCodes.Usage, "--older-than is not a duration (e.g. 90s, 15m, 2h, 30d)");
            if (Where(parse.GetValue(ids), parse.GetValue(all) || age is not null) is not { } where) return context.Fail(ExitCodes.Usage, "give --id ID..., --all or --older-than");
            var t = context.Environment.Tables;
            await using var connection = await context.Environment.OpenAsync(cancellationToken);
            await using var delete = new MySqlCommand($"DELETE FROM {t.Queue} WHERE status = 'dead_letter'{where}{(age is null ? "" : " AND updated_at < @before")}", connection);
            delete.Parameters.AddWithValue("@before", (context.Now - duration).ToUnixTimeSeconds());
            var removed = await delete.ExecuteNonQueryAsync(cancellationToken);
            return Report(context, "purged", removed, parse.GetValue(ids));
        }));
        return command;
    }

    /// <summary>The id filter as SQL (ids are parsed longs, safe to inline); null when nothing was selected.</summary>
    private static string? Where(long[]? ids, bool all) => ids is { Length: > 0 }
        ? $" AND id IN ({string.Join(',', ids)})"
        : all ? "" : null;

    private static int Report(CliContext context, string verb, int count, long[]? ids)
    {
        if (context.Json) context.WriteJson(new Dictionary<string, int> { [verb] = count });
        else context.WriteLine($"{count} dead letters {verb}");
        // Named rows that were not dead letters: the script asked for something that is not there.
        return ids is { Length: > 0 } && count < ids.Distinct().Count() ? ExitCodes.Failed : ExitCodes.Ok;
    }
}
