using Spectre.Console;
using System.CommandLine;
using AtSync.Core.Tokens;
using MySqlConnector;

namespace AtSync.Cli.Commands;

/// <summary><c>atsync users list|unlink</c>: phpBB users linked to AT identities (<c>atproto_users</c>).</summary>
public static class UsersCommand
{
    public static Command Create(AtSyncCommand.Runner run)
    {
        var command = new Command("users", "Linked forum users");
        command.Subcommands.Add(List(run));
        command.Subcommands.Add(Unlink(run));
        return command;
    }

    private static Command List(AtSyncCommand.Runner run)
    {
        var command = new Command("list", "Linked users: phpBB id and name, DID, handle, PDS, token expiry and key version");
        command.SetAction(run.Action(async (context, _, cancellationToken) =>
        {
            var t = context.Environment.Tables;
            await using var connection = await context.Environment.OpenAsync(cancellationToken);
            await using var query = new MySqlCommand($"""
                SELECT a.user_id, u.username, a.did, a.handle, a.pds_url, a.token_expires_at, a.access_token
                FROM {t.Users} a LEFT JOIN {t.PhpbbUsers} u ON u.user_id = a.user_id ORDER BY a.user_id
                """, connection);
            var rows = new List<(long Id, string? Name, string Did, string Handle, string Pds, long? Expires, string? KeyVersion)>();
            await using (var reader = await query.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    rows.Add((reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                        reader.IsDBNull(5) ? null : reader.GetInt64(5), reader.IsDBNull(6) ? null : TokenCipher.VersionOf(reader.GetString(6))));
                }
            }
            if (context.Json)
            {
                context.WriteJson(rows.Select(r => new { user_id = r.Id, username = r.Name, did = r.Did, handle = r.Handle, pds_url = r.Pds, token_expires_at = r.Expires, key_version = r.KeyVersion }));
                return ExitCodes.Ok;
            }
            var table = CliContext.NewTable("user", "name", "did", "handle", "pds", "token expires", "key");
            foreach (var r in rows)
            {
                table.AddRow(CliContext.Cell(r.Id), CliContext.Cell(r.Name), CliContext.Cell(r.Did), CliContext.Cell(r.Handle), CliContext.Cell(r.Pds),
                    CliContext.Cell(CliContext.FromUnix(r.Expires)?.ToString("u")), CliContext.Cell(r.KeyVersion));
            }
            context.Write(table);
            context.WriteLine($"{rows.Count} linked users");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Unlink(AtSyncCommand.Runner run)
    {
        var who = new Argument<string>("user") { Description = "phpBB user id or DID" };
        var command = new Command("unlink", "Remove a user's link and stored tokens; their waiting queue rows become dead letters") { who };
        command.SetAction(run.Action(async (context, parse, cancellationToken) =>
        {
            var t = context.Environment.Tables;
            var key = parse.GetValue(who)!;
            await using var connection = await context.Environment.OpenAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            string? did;
            await using (var find = new MySqlCommand($"SELECT did FROM {t.Users} WHERE {(long.TryParse(key, out _) ? "user_id" : "did")} = @k FOR UPDATE", connection, transaction))
            {
                find.Parameters.AddWithValue("@k", key);
                did = await find.ExecuteScalarAsync(cancellationToken) as string;
            }
            if (did is null) return context.Fail(ExitCodes.Failed, "no linked user matches");
            await using (var delete = new MySqlCommand($"DELETE FROM {t.Users} WHERE did = @d", connection, transaction))
            {
                delete.Parameters.AddWithValue("@d", did);
                await delete.ExecuteNonQueryAsync(cancellationToken);
            }
            int parked;
            await using (var rows = new MySqlCommand($"""
                UPDATE {t.Queue} SET status = 'dead_letter', last_error = 'user unlinked by atsync', updated_at = @now
                WHERE user_did = @d AND status = 'pending'
                """, connection, transaction))
            {
                rows.Parameters.AddWithValue("@d", did);
                rows.Parameters.AddWithValue("@now", context.Now.ToUnixTimeSeconds());
                parked = await rows.ExecuteNonQueryAsync(cancellationToken);
            }
            await transaction.CommitAsync(cancellationToken);
            if (context.Json) context.WriteJson(new { unlinked = did, queue_rows_dead_lettered = parked });
            else context.WriteLine($"unlinked {did}; {parked} waiting queue rows dead-lettered");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
