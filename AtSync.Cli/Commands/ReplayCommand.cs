using System.Buffers.Binary;
using System.CommandLine;
using AtSync.AtProto.EventStream;
using AtSync.Core.Storage;
using AtSync.Firehose;
using AtSync.Firehose.Ingest;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace AtSync.Cli.Commands;

/// <summary>
/// <c>atsync replay &lt;file&gt;</c>: applies a relay capture file (<c>[uint32 LE length][frame]…</c>, optionally zstd) through
/// the Firehose's own pipeline (AddFirehose with <c>FIREHOSE_REPLAY_FILE</c>: same decoding, signature checks, batches
/// and cursor), and returns when the stored cursor has reached the capture's last event. Events at or below the cursor
/// are skipped, so a replay resumes where it stopped; rewind the cursor first to re-apply (<c>atsync cursor rewind</c>).
/// Run it with the Firehose service stopped: both would write the same cursor.
/// </summary>
public static class ReplayCommand
{
    public static Command Create(AtSyncCommand.Runner run)
    {
        var file = new Argument<FileInfo>("file") { Description = "Capture file to apply" };
        var timeout = new Option<string>("--timeout") { Description = "Give up after this long", DefaultValueFactory = _ => "1h" };
        var command = new Command("replay", "Apply a relay capture file through the Firehose pipeline (with the Firehose service stopped)") { file, timeout };
        command.SetAction(run.Action(async (context, parse, cancellationToken) =>
        {
            var capture = parse.GetValue(file)!;
            if (!capture.Exists) return context.Fail(ExitCodes.Usage, "the capture file does not exist");
            if (!Durations.TryParse(parse.GetValue(timeout), out var limit)) return context.Fail(ExitCodes.Usage, "--timeout is not a duration");
            var scan = Scan(capture.FullName);
            if (scan.LastSeq is null) return context.Fail(ExitCodes.Failed, $"the capture holds no event with a sequence number ({scan.Frames} frames, {scan.Undecodable} undecodable)");

            var tables = context.Environment.Tables;
            await using var connection = await context.Environment.OpenAsync(cancellationToken);
            var before = await CursorAsync(connection, tables, cancellationToken);
            var postsBefore = await OperatorQueries.CountAsync(connection, $"SELECT COUNT(*) FROM {tables.PhpbbPosts}", cancellationToken);

            using var host = BuildHost(context, capture.FullName);
            await host.StartAsync(cancellationToken);
            long reached = before;
            var deadline = context.Now + limit;
            try
            {
                async Task WaitAsync(Action<long>? onProgress)
                {
                    while (reached < scan.LastSeq)
                    {
                        if (context.Now > deadline) throw new TimeoutException();
                        await Task.Delay(200, cancellationToken);
                        reached = await CursorAsync(connection, tables, cancellationToken);
                        onProgress?.Invoke(reached);
                    }
                }
                if (context.Json) await WaitAsync(null);
                else
                {
                    await context.Console.Progress().StartAsync(async progress =>
                    {
                        var first = scan.FirstSeq!.Value;
                        var task = progress.AddTask($"replaying {capture.Name}", maxValue: Math.Max(1, scan.LastSeq.Value - first + 1));
                        await WaitAsync(c => task.Value = Math.Clamp(c - first + 1, 0, task.MaxValue));
                        task.Value = task.MaxValue;
                    });
                }
            }
            catch (TimeoutException)
            {
                return context.Fail(ExitCodes.Failed, $"the cursor reached {reached}, not {scan.LastSeq}, within {parse.GetValue(timeout)}");
            }
            finally
            {
                using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                await host.StopAsync(stop.Token);
            }
            var postsAfter = await OperatorQueries.CountAsync(connection, $"SELECT COUNT(*) FROM {tables.PhpbbPosts}", CancellationToken.None);
            if (context.Json)
            {
                context.WriteJson(new { frames = scan.Frames, undecodable = scan.Undecodable, first_seq = scan.FirstSeq, last_seq = scan.LastSeq, cursor_before = before, cursor_after = reached, posts_added = postsAfter - postsBefore });
            }
            else
            {
                context.WriteLine($"{scan.Frames} frames (seq {scan.FirstSeq}..{scan.LastSeq}, {scan.Undecodable} undecodable); cursor {before} -> {reached}; {postsAfter - postsBefore} phpBB posts added");
            }
            return ExitCodes.Ok;
        }));
        return command;
    }

    private sealed record CaptureScan(long Frames, long Undecodable, long? FirstSeq, long? LastSeq);

    private static CaptureScan Scan(string path)
    {
        using var stream = CaptureFileSource.Open(path);
        var header = new byte[4];
        long frames = 0, bad = 0;
        long? first = null, last = null;
        while (stream.ReadAtLeast(header, 4, throwOnEndOfStream: false) == 4)
        {
            var length = BinaryPrimitives.ReadUInt32LittleEndian(header);
            if (length > 16 * 1024 * 1024) break;
            var frame = new byte[length];
            if (stream.ReadAtLeast(frame, (int)length, throwOnEndOfStream: false) < length) break;
            frames++;
            if (FrameDecoder.TryDecodeRepoFrame(frame, out var evt, out _) && evt.Sequence is { } seq)
            {
                first ??= seq;
                last = last is null ? seq : Math.Max(last.Value, seq);
            }
            else bad++;
        }
        return new CaptureScan(frames, bad, first, last);
    }

    private static IHost BuildHost(CliContext context, string capture)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            DisableDefaults = true, ApplicationName = "atsync-replay", EnvironmentName = Environments.Production,
        });
        builder.Configuration.AddEnvironmentVariables();
        builder.Configuration.AddInMemoryCollection([
            new(FirehoseOptions.ReplayFileSetting, capture),
            new($"{FirehoseOptions.Section}:LabelsEnabled", "false"),
        ]);
        builder.Logging.ClearProviders();
        // The pipeline's warnings (skipped commits, bad signatures) go to standard error, one line each.
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true).AddFilter((_, level) => level >= LogLevel.Warning);
        builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.AddAtSyncDatabase();
        builder.AddFirehose();
        return builder.Build();
    }

    private static async Task<long> CursorAsync(MySqlConnector.MySqlConnection connection, AtSyncTables tables, CancellationToken cancellationToken) =>
        await OperatorQueries.CountAsync(connection,
            $"SELECT COALESCE(MAX(cursor_value), 0) FROM {tables.Cursors} WHERE service = '{FirehoseStreams.RepoService}'", cancellationToken);
}
