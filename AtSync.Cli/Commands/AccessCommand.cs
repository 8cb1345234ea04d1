using Spectre.Console;
using System.CommandLine;
using AtSync.AtProto.Syntax;
using AtSync.Core.Forum;
using MySqlConnector;

namespace AtSync.Cli.Commands;

/// <summary>
/// <c>atsync access list|allow|ban|clear</c>: the forum's own allow and ban list of DIDs (<c>atproto_did_access</c>,
/// migration 203). The Firehose's posting policy reads it on every network post, so a change holds from the next post
/// without a restart: a banned DID's posts and edits are refused; an allowed DID counts as known
/// (<c>NETWORK_POSTERS=known</c> admits it, <c>NETWORK_MODERATION=unknown</c> does not moderate it).
/// </summary>
public static class AccessCommand
{
    /// <summary>The column's width (<c>reason VARCHAR(255)</c>).</summary>
    public const int MaxReasonLength = 255;

    private sealed record Row(string Did, string Access, string Reason, long CreatedAt);

    public static Command Create(AtSyncCommand.Runner run)
    {
        var command = new Command("access", "The forum's allow and ban list of DIDs (read by the Firehose on every post)");
        command.Subcommands.Add(List(run));
        command.Subcommands.Add(Set(run, DidAccess.Allow, "allow", "Allow a DID: it posts as a known author (admitted under NETWORK_POSTERS=known, not moderated under NETWORK_MODERATION=unknown)"));
        command.Subcommands.Add(Set(run, DidAccess.Ban, "ban", "Ban a DID: its posts and edits are refused and no phpBB user is created for it"));
        command.Subcommands.Add(Clear(run));
        return command;
    }

    private static Command List(AtSyncCommand.Runner run)
    {
        var command = new Command("list", "Every allowed and banned DID with its reason and when it was set");
        command.SetAction(run.Action(async (context, _, cancellationToken) =>
        {
            await using var connection = await context.Environment.OpenAsync(cancellationToken);
            await using var query = new MySqlCommand(
                $"SELECT did, access, reason, created_at FROM {context.Environment.Tables.DidAccess} ORDER BY access, did", connection);
            var rows = new List<Row>();
            await using (var reader = await query.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    rows.Add(new Row(reader.GetString(0), reader.GetString(1), reader.GetString(2),
                        Convert.ToInt64(reader.GetValue(3), System.Globalization.CultureInfo.InvariantCulture)));
                }
            }
            if (context.Json)
            {
                context.WriteJson(rows.Select(Json));
                return ExitCodes.Ok;
            }
            var table = CliContext.NewTable("did", "access", "reason", "since");
            foreach (var r in rows)
            {
                table.AddRow(CliContext.Cell(r.Did), CliContext.Cell(r.Access), CliContext.Cell(r.Reason.Length == 0 ? null : r.Reason),
                    CliContext.Cell(CliContext.FromUnix(r.CreatedAt)?.ToString("u")));
            }
            context.Write(table);
            context.WriteLine($"{rows.Count(r => r.Access == DidAccessSql.AllowSql)} allowed, {rows.Count(r => r.Access == DidAccessSql.BanSql)} banned");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Set(AtSyncCommand.Runner run, DidAccess access, string name, string description)
    {
        var did = new Argument<string>("did") { Description = "The DID (did:plc:… or did:web:…)" };
        var reason = new Option<string>("--reason") { Description = $"Why (shown by 'atsync access list'; at most {MaxReasonLength} characters)", DefaultValueFactory = _ => "" };
        var command = new Command(name, description + "; replaces an earlier entry for the DID") { did, reason };
        command.SetAction(run.Action(async (context, parse, cancellationToken) =>
        {
            if (ParseDid(context, parse.GetValue(did)) is not { } value) return ExitCodes.Usage;
            var why = (parse.GetValue(reason) ?? "").Trim();
            if (why.Length > MaxReasonLength) return context.Fail(ExitCodes.Usage, $"--reason is longer than {MaxReasonLength} characters");
            if (why.Any(char.IsControl)) return context.Fail(ExitCodes.Usage, "--reason must not contain control characters");
            var now = context.Now.ToUnixTimeSeconds();
            await using var connection = await context.Environment.OpenAsync(cancellationToken);
            string? before;
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await using (var find = new MySqlCommand($"SELECT access FROM {context.Environment.Tables.DidAccess} WHERE did = @did FOR UPDATE", connection, transaction))
            {
                find.Parameters.AddWithValue("@did", value);
                before = await find.ExecuteScalarAsync(cancellationToken) as string;
            }
            await using (var upsert = new MySqlCommand($"""
                INSERT INTO {context.Environment.Tables.DidAccess} (did, access, reason, created_at) VALUES (@did, @access, @reason, @now)
                ON DUPLICATE KEY UPDATE access = @access, reason = @reason, created_at = @now
                """, connection, transaction))
            {
                upsert.Parameters.AddWithValue("@did", value);
                upsert.Parameters.AddWithValue("@access", access.ToSql());
                upsert.Parameters.AddWithValue("@reason", why);
                upsert.Parameters.AddWithValue("@now", now);
                await upsert.ExecuteNonQueryAsync(cancellationToken);
            }
            await transaction.CommitAsync(cancellationToken);
            var row = new Row(value, access.ToSql(), why, now);
            if (context.Json)
            {
                context.WriteJson(new { did = row.Did, access = row.Access, reason = row.Reason, created_at = row.CreatedAt, previous = before });
                return ExitCodes.Ok;
            }
            var verb = access == DidAccess.Allow ? "allowed" : "banned";
            context.WriteLine($"{verb} {value}{(why.Length > 0 ? $" ({why})" : "")}{(before is not null && before != row.Access ? $"; was {before}" : "")}");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Clear(AtSyncCommand.Runner run)
    {
        var did = new Argument<string>("did") { Description = "The DID to take off the list" };
        var command = new Command("clear", "Take a DID off the list: it is neither allowed nor banned (the posting policy's defaults apply)") { did };
        command.SetAction(run.Action(async (context, parse, cancellationToken) =>
        {
            if (ParseDid(context, parse.GetValue(did)) is not { } value) return ExitCodes.Usage;
            await using var connection = await context.Environment.OpenAsync(cancellationToken);
            await using var delete = new MySqlCommand($"DELETE FROM {context.Environment.Tables.DidAccess} WHERE did = @did", connection);
            delete.Parameters.AddWithValue("@did", value);
            if (await delete.ExecuteNonQueryAsync(cancellationToken) == 0) return context.Fail(ExitCodes.Failed, "that DID is neither allowed nor banned");
            if (context.Json) context.WriteJson(new { cleared = value });
            else context.WriteLine($"cleared {value}");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static object Json(Row r) => new { did = r.Did, access = r.Access, reason = r.Reason, created_at = r.CreatedAt };

    /// <summary>The DID as the Firehose compares it (the stream's DIDs are valid syntax); else one line and null.</summary>
    private static string? ParseDid(CliContext context, string? text)
    {
        if (Did.TryParse(text?.Trim(), out var did) && did.Value.Length <= 255) return did.Value;
        context.Fail(ExitCodes.Usage, "not a DID (did:plc:… or did:web:…)");
        return null;
    }
}
