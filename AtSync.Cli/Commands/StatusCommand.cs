using Spectre.Console;
using System.CommandLine;

namespace AtSync.Cli.Commands;

/// <summary><c>atsync status</c>: streams and their cursors, the queue by status, dead letters, linked users, boards.</summary>
public static class StatusCommand
{
    public static Command Create(AtSyncCommand.Runner run)
    {
        var command = new Command("status", "Streams (cursor, age), the write queue by status, dead letters, linked users and boards");
        command.SetAction(run.Action(async (context, _, cancellationToken) =>
        {
            var tables = context.Environment.Tables;
            await using var connection = await context.Environment.OpenAsync(cancellationToken);
            var cursors = await OperatorQueries.CursorsAsync(connection, tables, cancellationToken);
            var queue = await OperatorQueries.QueueAsync(connection, tables, cancellationToken);
            var users = await OperatorQueries.CountAsync(connection, $"SELECT COUNT(*) FROM {tables.Users}", cancellationToken);
            var boards = await OperatorQueries.CountAsync(connection, $"SELECT COUNT(*) FROM {tables.Forums}", cancellationToken);
            var forums = await OperatorQueries.CountAsync(connection, $"SELECT COUNT(*) FROM {tables.PhpbbForums}", cancellationToken);
            var now = context.Now.ToUnixTimeSeconds();
            var oldestPending = queue.OldestPendingCreatedAt is { } created ? TimeSpan.FromSeconds(Math.Max(0, now - created)) : (TimeSpan?)null;

            if (context.Json)
            {
                context.WriteJson(new
                {
                    streams = cursors.Select(c => new { stream = c.Stream, cursor = c.Value, updated_at = c.UpdatedAt, age_seconds = c.UpdatedAt == 0 ? (long?)null : now - c.UpdatedAt }),
                    queue = new { pending = queue.Pending, processing = queue.Processing, dead_letter = queue.DeadLetter, oldest_pending_age_seconds = (long?)oldestPending?.TotalSeconds },
                    linked_users = users,
                    boards = new { mapped = boards, phpbb_forums = forums },
                });
                return ExitCodes.Ok;
            }
            var streams = CliContext.NewTable("stream", "cursor", "saved", "age (lag)");
            foreach (var c in cursors)
            {
                streams.AddRow(CliContext.Cell(c.Stream), CliContext.Cell(c.Value), CliContext.Cell(CliContext.FromUnix(c.UpdatedAt)?.ToString("u")),
                    CliContext.Cell(Durations.Format(c.UpdatedAt == 0 ? null : TimeSpan.FromSeconds(now - c.UpdatedAt))));
            }
            if (cursors.Count == 0) streams.AddRow("(none yet)", "-", "-", "-");
            context.Write(streams);
            var q = CliContext.NewTable("queue", "rows");
            q.AddRow("pending", queue.Pending.ToString());
            q.AddRow("processing", queue.Processing.ToString());
            q.AddRow("dead_letter", queue.DeadLetter.ToString());
            q.AddRow("oldest pending", CliContext.Cell(Durations.Format(oldestPending)));
            context.Write(q);
            context.WriteLine($"linked users: {users}");
            context.WriteLine($"boards: {boards} of {forums} phpBB forums mapped");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
