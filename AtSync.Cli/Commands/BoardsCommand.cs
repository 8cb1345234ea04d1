using Spectre.Console;
using System.CommandLine;
using AtSync.AtProto.Syntax;
using MySqlConnector;

namespace AtSync.Cli.Commands;

/// <summary><c>atsync boards list|map</c>: phpBB forums and their <c>net.vza.forum.board</c> records (<c>atproto_forums</c>).</summary>
public static class BoardsCommand
{
    public const string BoardCollection = "net.vza.forum.board";

    public static Command Create(AtSyncCommand.Runner run)
    {
        var command = new Command("boards", "phpBB forums and the board records they map to");
        command.Subcommands.Add(List(run));
        command.Subcommands.Add(Map(run));
        return command;
    }

    private static Command List(AtSyncCommand.Runner run)
    {
        var command = new Command("list", "Every phpBB forum with its board AT-URI (or none)");
        command.SetAction(run.Action(async (context, _, cancellationToken) =>
        {
            var t = context.Environment.Tables;
            await using var connection = await context.Environment.OpenAsync(cancellationToken);
            await using var query = new MySqlCommand($"""
                SELECT f.forum_id, f.forum_name, b.at_uri, b.at_cid, b.slug
                FROM {t.PhpbbForums} f LEFT JOIN {t.Forums} b ON b.forum_id = f.forum_id ORDER BY f.forum_id
                """, connection);
            var rows = new List<(long Id, string Name, string? Uri, string? Cid, string? Slug)>();
            await using (var reader = await query.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    rows.Add((Convert.ToInt64(reader.GetValue(0)), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2),
                        reader.IsDBNull(3) ? null : reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetString(4)));
                }
            }
            if (context.Json)
            {
                context.WriteJson(rows.Select(r => new { forum_id = r.Id, name = r.Name, at_uri = r.Uri, at_cid = r.Cid, slug = r.Slug }));
                return ExitCodes.Ok;
            }
            var table = CliContext.NewTable("forum", "name", "board record", "slug");
            foreach (var r in rows) table.AddRow(CliContext.Cell(r.Id), CliContext.Cell(r.Name), CliContext.Cell(r.Uri ?? "(not mapped)"), CliContext.Cell(r.Slug));
            context.Write(table);
            context.WriteLine($"{rows.Count(r => r.Uri is not null)} of {rows.Count} forums mapped");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Map(AtSyncCommand.Runner run)
    {
        var forum = new Argument<long>("forum-id") { Description = "The phpBB forum id" };
        var uri = new Argument<string>("at-uri") { Description = $"at://<forum DID>/{BoardCollection}/<rkey>" };
        var cid = new Option<string>("--cid") { Description = "The board record's CID (for strong refs)", DefaultValueFactory = _ => "" };
        var slug = new Option<string?>("--slug") { Description = "Short name (defaults to the record key)" };
        var command = new Command("map", "Map a phpBB forum to a board record (posts in it are published with that board)") { forum, uri, cid, slug };
        command.SetAction(run.Action(async (context, parse, cancellationToken) =>
        {
            if (!AtUri.TryParse(parse.GetValue(uri), out var parsed) || parsed.Collection?.ToString() != BoardCollection || parsed.RecordKey is null)
            {
                return context.Fail(ExitCodes.Usage, $"at-uri must be at://<DID>/{BoardCollection}/<rkey>");
            }
            var t = context.Environment.Tables;
            var forumId = parse.GetValue(forum);
            await using var connection = await context.Environment.OpenAsync(cancellationToken);
            if (await OperatorQueries.CountAsync(connection, $"SELECT COUNT(*) FROM {t.PhpbbForums} WHERE forum_id = {forumId}", cancellationToken) == 0)
            {
                return context.Fail(ExitCodes.Failed, $"phpBB has no forum {forumId}");
            }
            await using var upsert = new MySqlCommand($"""
                INSERT INTO {t.Forums} (forum_id, at_uri, at_cid, slug) VALUES (@id, @uri, @cid, @slug)
                ON DUPLICATE KEY UPDATE at_uri = VALUES(at_uri), at_cid = VALUES(at_cid), slug = VALUES(slug)
                """, connection);
            upsert.Parameters.AddWithValue("@id", forumId);
            upsert.Parameters.AddWithValue("@uri", parsed.Value);
            upsert.Parameters.AddWithValue("@cid", parse.GetValue(cid) ?? "");
            var slugValue = parse.GetValue(slug) ?? parsed.RecordKey!.ToString() ?? "";
            upsert.Parameters.AddWithValue("@slug", slugValue.Length > 50 ? slugValue[..50] : slugValue);
            try
            {
                await upsert.ExecuteNonQueryAsync(cancellationToken);
            }
            catch (MySqlException ex) when (ex.ErrorCode == MySqlErrorCode.DuplicateKeyEntry)
            {
                return context.Fail(ExitCodes.Failed, "that board record is already mapped to another forum");
            }
            if (context.Json) context.WriteJson(new { forum_id = forumId, at_uri = parsed.Value });
            else context.WriteLine($"forum {forumId} -> {parsed.Value}");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
