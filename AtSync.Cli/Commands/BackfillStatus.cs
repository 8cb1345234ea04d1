using Spectre.Console;
using System.CommandLine;
using AtSync.Core.Sync;
using AtSync.Firehose.Import;
using MySqlConnector;

namespace AtSync.Cli.Commands;

/// <summary><c>atsync backfill status</c>: repositories by status, and those waiting, importing or given up (<c>atproto_repos</c>).</summary>
public static class BackfillStatus
{
    public static Command Create(AtSyncCommand.Runner run)
    {
        var all = new Option<bool>("--all") { Description = "Also list active repositories" };
        var limit = new Option<int>("--limit") { Description = "Most repositories listed", DefaultValueFactory = _ => 100 };
        var command = new Command("status", "Repository imports: counts by status; each waiting, importing or given-up repository with its progress and reason") { all, limit };
        command.SetAction(run.Action(async (context, parse, cancellationToken) =>
        {
            var t = context.Environment.Tables;
            var most = parse.GetValue(limit);
            if (most < 1) return context.Fail(ExitCodes.Usage, "--limit must be positive");
            await using var connection = await context.Environment.OpenAsync(cancellationToken);
            var counts = new SortedDictionary<string, long>(StringComparer.Ordinal);
            await using (var count = new MySqlCommand($"SELECT status, COUNT(*) FROM {t.Repos} GROUP BY status", connection))
            await using (var reader = await count.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken)) counts[reader.GetString(0)] = Convert.ToInt64(reader.GetValue(1));
            }
            var rows = new List<Row>();
            await using (var list = new MySqlCommand($"""
                SELECT did, status, requested_by, requested_at, rev, records_imported, attempts, retry_at, reason, updated_at FROM {t.Repos}
                {(parse.GetValue(all) ? "" : $"WHERE status <> '{RepoStatus.Active.ToSql()}'")}
                ORDER BY FIELD(status, 'importing', 'desynchronized', 'resync_requested', 'parked', 'active'), requested_at, did LIMIT @limit
                """, connection))
            {
                list.Parameters.AddWithValue("@limit", most);
                await using var reader = await list.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    var reason = reader.GetString(8);
                    rows.Add(new Row(reader.GetString(0), reader.GetString(1), reader.GetString(2), Convert.ToInt64(reader.GetValue(3)), reader.GetString(4),
                        Convert.ToInt64(reader.GetValue(5)), Convert.ToInt32(reader.GetValue(6)), Convert.ToInt64(reader.GetValue(7)), reason,
                        reason.StartsWith(RepoStates.GaveUpPrefix, StringComparison.Ordinal), Convert.ToInt64(reader.GetValue(9))));
                }
            }
            if (context.Json)
            {
                context.WriteJson(new { counts, repos = rows });
                return ExitCodes.Ok;
            }
            context.WriteLine(counts.Count == 0 ? "no repository state yet" : string.Join(", ", counts.Select(c => $"{c.Key} {c.Value}")));
            if (rows.Count == 0) return ExitCodes.Ok;
            var table = CliContext.NewTable("did", "status", "requested by", "records imported", "attempts", "next try", "reason");
            var now = context.Now.ToUnixTimeSeconds();
            foreach (var r in rows)
            {
                var next = r.GaveUp || r.RetryAt == 0 ? "-" : r.RetryAt <= now ? "due" : $"in {Durations.Format(TimeSpan.FromSeconds(r.RetryAt - now))}";
                if (r.Status == RepoStatus.Importing.ToSql()) next = "lease " + next;
                table.AddRow(CliContext.Cell(r.Did), CliContext.Cell(r.GaveUp ? r.Status + " (gave up)" : r.Status), CliContext.Cell(r.RequestedBy),
                    CliContext.Cell(r.RecordsImported), CliContext.Cell(r.Attempts), CliContext.Cell(next), CliContext.Cell(r.Reason));
            }
            context.Write(table);
            return ExitCodes.Ok;
        }));
        return command;
    }

    private sealed record Row(string Did, string Status, string RequestedBy, long RequestedAt, string Rev, long RecordsImported, int Attempts, long RetryAt,
        string Reason, bool GaveUp, long UpdatedAt);
}
