using System.CommandLine;
using AtSync.Core.Storage;
using MySqlConnector;

namespace AtSync.Cli.Commands;

/// <summary>
/// <c>atsync cursor show|set|rewind</c>: the streams' stored cursors (<c>atproto_cursors</c>); a rewind by time uses the
/// Firehose's per-minute samples (<c>atproto_cursor_samples</c>, migration 700). The Firehose reads its
/// cursor when a stream starts and overwrites it with every batch, so <c>set</c>/<c>rewind</c> are for a stopped
/// Firehose (a warning says so when the cursor was saved in the last minute). Replaying is safe: events at or below
/// the cursor are skipped and each record's last applied revision makes a replayed operation a no-op.
/// </summary>
public static class CursorCommand
{
    private static Option<string> StreamOption() => new("--stream")
    {
        Description = "Which stream: firehose (the relay) or labels (the labeler)",
        DefaultValueFactory = _ => "firehose",
        CustomParser = result =>
        {
            var value = result.Tokens.Count == 0 ? "firehose" : result.Tokens[0].Value;
            if (value is not ("firehose" or "labels")) result.AddError("--stream must be firehose or labels");
            return value;
        },
    };

    public static Command Create(AtSyncCommand.Runner run)
    {
        var command = new Command("cursor", "Show, set or rewind a stream's stored cursor");
        command.Subcommands.Add(Show(run));
        command.Subcommands.Add(Set(run));
        command.Subcommands.Add(Rewind(run));
        return command;
    }

    private static Command Show(AtSyncCommand.Runner run)
    {
        var command = new Command("show", "Every stream's cursor and when it was saved");
        command.SetAction(run.Action(async (context, _, cancellationToken) =>
        {
            await using var connection = await context.Environment.OpenAsync(cancellationToken);
            var rows = await OperatorQueries.CursorsAsync(connection, context.Environment.Tables, cancellationToken);
            var now = context.Now.ToUnixTimeSeconds();
            if (context.Json)
            {
                context.WriteJson(rows.Select(r => new { stream = r.Stream, cursor = r.Value, updated_at = r.UpdatedAt, age_seconds = r.UpdatedAt == 0 ? (long?)null : now - r.UpdatedAt }));
                return ExitCodes.Ok;
            }
            foreach (var r in rows) context.WriteLine($"{r.Stream} {r.Value} (saved {Durations.Format(r.UpdatedAt == 0 ? null : TimeSpan.FromSeconds(now - r.UpdatedAt))} ago)");
            if (rows.Count == 0) context.WriteLine("no cursor stored yet");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Set(AtSyncCommand.Runner run)
    {
        var value = new Argument<long>("value") { Description = "The sequence number to resume after" };
        var stream = StreamOption();
        var command = new Command("set", "Store a cursor (the stream resumes after it when the Firehose starts)") { value, stream };
        command.SetAction(run.Action(async (context, parse, cancellationToken) =>
        {
            var target = parse.GetValue(value);
            if (target < 0) return context.Fail(ExitCodes.Usage, "the cursor cannot be negative");
            return await StoreAsync(context, parse.GetValue(stream)!, _ => target, cancellationToken);
        }));
        return command;
    }

    private static Command Rewind(AtSyncCommand.Runner run)
    {
        var duration = new Argument<string>("duration") { Description = "How far back: 90s, 15m, 2h, 1d" };
        var rate = new Option<double?>("--rate")
        {
            Description = "Fallback when no cursor sample is that old (samples are kept 8 days): the stream's events per second " +
                "(the dashboard's events/s), and the rewind is duration × rate",
        };
        var stream = StreamOption();
        var command = new Command("rewind",
            "Move a cursor back by a duration, to replay what the stream sent since: to the cursor the Firehose committed at that time " +
            "(its per-minute samples), or by duration × --rate when no sample is that old")
        { duration, rate, stream };
        command.SetAction(run.Action(async (context, parse, cancellationToken) =>
        {
            if (!Durations.TryParse(parse.GetValue(duration), out var span)) return context.Fail(ExitCodes.Usage, "duration is not a duration (e.g. 90s, 15m, 2h, 1d)");
            var perSecond = parse.GetValue(rate);
            if (perSecond is { } r && (r <= 0 || double.IsNaN(r) || double.IsInfinity(r))) return context.Fail(ExitCodes.Usage, "--rate must be positive");
            var name = parse.GetValue(stream)!;
            var at = context.Now.ToUnixTimeSeconds() - (long)Math.Ceiling(span.TotalSeconds);
            OperatorQueries.CursorSample? sample;
            await using (var connection = await context.Environment.OpenAsync(cancellationToken))
            {
                sample = await OperatorQueries.CursorSampleAtAsync(connection, context.Environment.Tables, name, at, cancellationToken);
            }
            if (sample is { } found)
            {
                // The cursor as it stood then; never forward (a stream that had been rewound before may be behind it).
                return await StoreAsync(context, name, current => Math.Min(current, found.Cursor), cancellationToken,
                    new RewindBasis("sample", found.SampledAt, null));
            }
            if (perSecond is not { } eventsPerSecond)
            {
                return context.Fail(ExitCodes.Failed,
                    $"no cursor sample of {name} is {Durations.Format(span)} old (the Firehose records one a minute and keeps them {CursorSampleRetention.Days} days): " +
                    "pass --rate <events/s> to rewind by duration × rate");
            }
            var back = (long)Math.Ceiling(span.TotalSeconds * eventsPerSecond);
            return await StoreAsync(context, name, current => Math.Max(0, current - back), cancellationToken, new RewindBasis("rate", null, eventsPerSecond));
        }));
        return command;
    }

    /// <summary>How a rewind chose its cursor: a stored sample (and when it was taken), or duration × rate.</summary>
    private sealed record RewindBasis(string Method, long? SampledAt, double? Rate);

    private static async Task<int> StoreAsync(CliContext context, string stream, Func<long, long> next, CancellationToken cancellationToken, RewindBasis? basis = null)
    {
        var t = context.Environment.Tables;
        await using var connection = await context.Environment.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        long? current = null;
        long updatedAt = 0;
        await using (var read = new MySqlCommand($"SELECT cursor_value, updated_at FROM {t.Cursors} WHERE service = @s FOR UPDATE", connection, transaction))
        {
            read.Parameters.AddWithValue("@s", stream);
            await using var reader = await read.ExecuteReaderAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken))
            {
                current = Convert.ToInt64(reader.GetValue(0));
                updatedAt = Convert.ToInt64(reader.GetValue(1));
            }
        }
        var value = next(current ?? 0);
        var now = context.Now.ToUnixTimeSeconds();
        await using (var write = new MySqlCommand($"""
            INSERT INTO {t.Cursors} (service, cursor_value, updated_at) VALUES (@s, @v, @now)
            ON DUPLICATE KEY UPDATE cursor_value = VALUES(cursor_value), updated_at = VALUES(updated_at)
            """, connection, transaction))
        {
            write.Parameters.AddWithValue("@s", stream);
            write.Parameters.AddWithValue("@v", value);
            write.Parameters.AddWithValue("@now", now);
            await write.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        if (updatedAt > 0 && now - updatedAt < 60)
        {
            context.Error.WriteLine("atsync: warning: the cursor was saved less than a minute ago: if the Firehose is running it will overwrite this; stop it, set the cursor, start it");
        }
        if (context.Json)
        {
            if (basis is null) context.WriteJson(new { stream, previous = current, cursor = value });
            else context.WriteJson(new { stream, previous = current, cursor = value, method = basis.Method, sampled_at = basis.SampledAt, rate = basis.Rate });
        }
        else
        {
            var how = basis switch
            {
                { SampledAt: { } at } => $" (the cursor committed at {DateTimeOffset.FromUnixTimeSeconds(at):u})",
                { Rate: { } rate } => $" (no sample that old: duration × {rate.ToString(System.Globalization.CultureInfo.InvariantCulture)} events/s)",
                _ => "",
            };
            context.WriteLine($"{stream}: {current?.ToString() ?? "none"} -> {value}{how}");
        }
        return ExitCodes.Ok;
    }
}
