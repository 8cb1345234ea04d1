using Spectre.Console;
using System.CommandLine;
using MySqlConnector;

namespace AtSync.Cli.Commands;

/// <summary>
/// <c>atsync repos list|show &lt;did&gt;</c>: the repositories the Firehose follows (<c>atproto_repos</c>, migration 400):
/// status (active, parked, desynchronized, resync_requested, importing), reason, retry time, last verified rev and
/// how many commits are held for each (<c>atproto_held_commits</c>).
/// </summary>
public static class ReposCommand
{
    private sealed record Row(
        string Did, string Status, string Reason, string Rev, string DataCid, long Attempts, long RetryAt, string RequestedBy, long RequestedAt,
        long RecordsImported, long UpdatedAt, long Held, long OldestHeldAt);

    public static Command Create(AtSyncCommand.Runner run)
    {
        var command = new Command("repos", "Followed repositories: sync status, parked and desynchronized ones, held commits");
        command.Subcommands.Add(List(run));
        command.Subcommands.Add(Show(run));
        return command;
    }

    private static Command List(AtSyncCommand.Runner run)
    {
        var all = new Option<bool>("--all") { Description = "Also list active repositories with nothing held (by default only those needing attention)" };
        var command = new Command("list", "Repositories that are not in step (or all with --all): status, reason, held commits, next retry") { all };
        command.SetAction(run.Action(async (context, parse, cancellationToken) =>
        {
            await using var connection = await context.Environment.OpenAsync(cancellationToken);
            var rows = await QueryAsync(connection, context.Environment.Tables, did: null, everything: parse.GetValue(all), cancellationToken);
            if (context.Json)
            {
                context.WriteJson(rows.Select(Json));
                return ExitCodes.Ok;
            }
            var table = CliContext.NewTable("did", "status", "reason", "held", "attempts", "next retry", "rev");
            foreach (var r in rows)
            {
                table.AddRow(CliContext.Cell(r.Did), CliContext.Cell(r.Status), CliContext.Cell(r.Reason.Length == 0 ? null : r.Reason), CliContext.Cell(r.Held),
                    CliContext.Cell(r.Attempts), CliContext.Cell(CliContext.FromUnix(r.RetryAt)?.ToString("u")), CliContext.Cell(r.Rev.Length == 0 ? null : r.Rev));
            }
            context.Write(table);
            context.WriteLine($"{rows.Count} repositories");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Show(AtSyncCommand.Runner run)
    {
        var did = new Argument<string>("did") { Description = "The repository's DID" };
        var command = new Command("show", "One repository: status, reason, last verified commit, import request, held commits") { did };
        command.SetAction(run.Action(async (context, parse, cancellationToken) =>
        {
            await using var connection = await context.Environment.OpenAsync(cancellationToken);
            var rows = await QueryAsync(connection, context.Environment.Tables, parse.GetValue(did)!, everything: true, cancellationToken);
            if (rows.Count == 0) return context.Fail(ExitCodes.Failed, "no repository with that DID is followed");
            var r = rows[0];
            if (context.Json)
            {
                context.WriteJson(Json(r));
                return ExitCodes.Ok;
            }
            context.WriteLine($"did:              {r.Did}");
            context.WriteLine($"status:           {r.Status}{(r.Reason.Length > 0 ? $" ({r.Reason})" : "")}");
            context.WriteLine($"rev:              {(r.Rev.Length > 0 ? r.Rev : "-")}");
            context.WriteLine($"data:             {(r.DataCid.Length > 0 ? r.DataCid : "-")}");
            context.WriteLine($"attempts:         {r.Attempts}");
            context.WriteLine($"next retry:       {CliContext.FromUnix(r.RetryAt)?.ToString("u") ?? "-"}");
            context.WriteLine($"import requested: {(r.RequestedBy.Length > 0 ? $"by {r.RequestedBy} at {CliContext.FromUnix(r.RequestedAt)?.ToString("u")}" : "-")}");
            context.WriteLine($"records imported: {r.RecordsImported}");
            context.WriteLine($"held commits:     {r.Held}{(r.Held > 0 ? $" (oldest held at {CliContext.FromUnix(r.OldestHeldAt)?.ToString("u")})" : "")}");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static object Json(Row r) => new
    {
        did = r.Did, status = r.Status, reason = r.Reason, rev = r.Rev, data_cid = r.DataCid, attempts = r.Attempts, retry_at = r.RetryAt,
        requested_by = r.RequestedBy, requested_at = r.RequestedAt, records_imported = r.RecordsImported, updated_at = r.UpdatedAt,
        held = r.Held, oldest_held_at = r.OldestHeldAt,
    };

    private static async Task<List<Row>> QueryAsync(MySqlConnection connection, Core.Storage.AtSyncTables t, string? did, bool everything, CancellationToken ct)
    {
        var filter = did is not null ? "WHERE r.did = @did" : everything ? "" : "WHERE r.status <> 'active' OR h.held > 0";
        await using var query = new MySqlCommand($"""
            SELECT r.did, r.status, r.reason, r.rev, r.data_cid, r.attempts, r.retry_at, r.requested_by, r.requested_at, r.records_imported,
                   r.updated_at, COALESCE(h.held, 0), COALESCE(h.oldest, 0)
            FROM {t.Repos} r
            LEFT JOIN (SELECT did, COUNT(*) AS held, MIN(held_at) AS oldest FROM {t.HeldCommits} GROUP BY did) h ON h.did = r.did
            {filter}
            ORDER BY r.updated_at DESC, r.did LIMIT 1000
            """, connection);
        if (did is not null) query.Parameters.AddWithValue("@did", did);
        var rows = new List<Row>();
        await using var reader = await query.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            rows.Add(new Row(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                Convert.ToInt64(reader.GetValue(5), System.Globalization.CultureInfo.InvariantCulture), Convert.ToInt64(reader.GetValue(6), System.Globalization.CultureInfo.InvariantCulture),
                reader.GetString(7), Convert.ToInt64(reader.GetValue(8), System.Globalization.CultureInfo.InvariantCulture), Convert.ToInt64(reader.GetValue(9), System.Globalization.CultureInfo.InvariantCulture),
                Convert.ToInt64(reader.GetValue(10), System.Globalization.CultureInfo.InvariantCulture), Convert.ToInt64(reader.GetValue(11), System.Globalization.CultureInfo.InvariantCulture),
                Convert.ToInt64(reader.GetValue(12), System.Globalization.CultureInfo.InvariantCulture)));
        }
        return rows;
    }
}
