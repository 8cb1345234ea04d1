using Spectre.Console;
using System.CommandLine;
using AtSync.AtProto.Syntax;
using AtSync.Core.Forum;
using AtSync.Core.Storage;
using AtSync.Core.Sync;
using AtSync.Firehose;
using AtSync.Firehose.Import;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace AtSync.Cli.Commands;

/// <summary>
/// <c>atsync backfill &lt;did&gt;… | --linked | --from-relay &lt;url&gt;</c>: imports repositories' forum records from their
/// own PDSes (<c>getRepo</c>, verified) into phpBB through the Firehose's importer, here and now, with progress; with
/// <c>--request-only</c> the repositories are only marked for the Firehose's import worker. Safe beside a running
/// Firehose: a repository is claimed (leased) before it is imported, so no two importers ever take the same one, and
/// its live commits wait until the import is done. <c>atsync backfill status</c> shows <c>atproto_repos</c>.
/// </summary>
public static class BackfillCommand
{
    public static Command Create(AtSyncCommand.Runner run)
    {
        var dids = new Argument<string[]>("did") { Description = "Repositories (DIDs) to import", Arity = ArgumentArity.ZeroOrMore };
        var linked = new Option<bool>("--linked") { Description = "Every linked forum user (atproto_users)" };
        var relay = new Option<string?>("--from-relay") { Description = "Every repository this relay lists for net.vza.forum.post (com.atproto.sync.listReposByCollection), e.g. https://bsky.network" };
        var requestOnly = new Option<bool>("--request-only") { Description = "Only mark the repositories for the Firehose's import worker; import nothing here" };
        var parallel = new Option<int>("--parallel") { Description = "Repositories imported at the same time", DefaultValueFactory = _ => 2 };
        var command = new Command("backfill", "Import repositories' forum records from their PDSes (getRepo, verified) into phpBB")
        {
            dids, linked, relay, requestOnly, parallel,
        };
        command.Subcommands.Add(BackfillStatus.Create(run));
        command.SetAction(run.Action(async (context, parse, cancellationToken) =>
        {
            var given = parse.GetValue(dids) ?? [];
            var relayText = parse.GetValue(relay);
            var concurrency = parse.GetValue(parallel);
            if (concurrency is < 1 or > 16) return context.Fail(ExitCodes.Usage, "--parallel must be 1 to 16");
            if (given.Length == 0 && !parse.GetValue(linked) && relayText is null)
            {
                return context.Fail(ExitCodes.Usage, "name repositories (DIDs), or use --linked or --from-relay <url>; see 'atsync backfill --help'");
            }
            foreach (var did in given)
            {
                if (!Did.TryParse(did, out _)) return context.Fail(ExitCodes.Usage, $"'{(did.Length > 80 ? did[..80] + "…" : did)}' is not a DID");
            }
            Uri? relayUrl = null;
            if (relayText is not null && (!Uri.TryCreate(relayText, UriKind.Absolute, out relayUrl) || relayUrl.Scheme is not ("https" or "http")))
            {
                return context.Fail(ExitCodes.Usage, "--from-relay must be an http(s) URL");
            }

            var tables = context.Environment.Tables;
            var targets = given.Select(d => (Did: d, By: ResyncRequester.Operator)).ToList();
            await using var connection = await context.Environment.OpenAsync(cancellationToken);
            if (parse.GetValue(linked))
            {
                await using var query = new MySqlCommand($"SELECT did FROM {tables.Users} ORDER BY user_id", connection);
                await using var reader = await query.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken)) targets.Add((reader.GetString(0), ResyncRequester.Operator));
            }
            if (relayUrl is not null)
            {
                using var http = new HttpClient { Timeout = RelayRepoListing.RequestTimeout };
                try
                {
                    await foreach (var did in new RelayRepoListing(http).ListAsync(relayUrl, ForumLexicon.Post, cancellationToken))
                    {
                        targets.Add((did, ResyncRequester.Relay));
                    }
                }
                catch (RelayListingException ex)
                {
                    return context.Fail(ExitCodes.Failed, ex.Message);
                }
                catch (HttpRequestException)
                {
                    return context.Fail(ExitCodes.Failed, "the relay could not be reached");
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    return context.Fail(ExitCodes.Failed, "the relay did not answer in time");
                }
            }
            targets = [.. targets.DistinctBy(t => t.Did, StringComparer.Ordinal)];

            var now = context.Now.ToUnixTimeSeconds();
            foreach (var (did, by) in targets)
            {
                await ResyncRequests.RequestAsync(connection, null, tables, did, by, now, cancellationToken);
            }
            if (parse.GetValue(requestOnly))
            {
                if (context.Json) context.WriteJson(new { requested = targets.Select(t => t.Did) });
                else context.WriteLine($"{targets.Count} repositories requested; the Firehose's import worker takes them (atsync backfill status)");
                return ExitCodes.Ok;
            }

            using var host = BuildHost();
            var results = await ImportAllAsync(context, host.Services, targets.Select(t => t.Did).ToList(), concurrency, cancellationToken);
            Report(context, results);
            return results.All(r => r.Outcome == "imported") ? ExitCodes.Ok : ExitCodes.Failed;
        }));
        return command;
    }

    private sealed record BackfillOutcome(string Did, string Outcome, ImportResult? Result);

    private static async Task<List<BackfillOutcome>> ImportAllAsync(CliContext context, IServiceProvider services, List<string> dids, int concurrency, CancellationToken ct)
    {
        var states = services.GetRequiredService<RepoStates>();
        var importer = services.GetRequiredService<RepoImporter>();
        var settings = services.GetRequiredService<IOptions<ImportOptions>>().Value;
        var results = new System.Collections.Concurrent.ConcurrentDictionary<string, BackfillOutcome>(StringComparer.Ordinal);
        async Task OneAsync(string did, IProgress<ImportProgress>? progress)
        {
            var claimed = await states.ClaimAsync(1, context.Now.ToUnixTimeSeconds(), settings.Lease, ct, onlyDid: did);
            if (claimed.Count == 0)
            {
                results[did] = new BackfillOutcome(did, "importing_elsewhere", null);
                return;
            }
            var result = await importer.RunAsync(claimed[0], progress, ct);
            results[did] = new BackfillOutcome(did, result.Succeeded ? "imported" : "failed", result);
        }
        if (context.Json)
        {
            await Parallel.ForEachAsync(dids, new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = ct }, async (did, _) => await OneAsync(did, null));
        }
        else
        {
            await context.Console.Progress().StartAsync(async progress =>
            {
                await Parallel.ForEachAsync(dids, new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = ct }, async (did, _) =>
                {
                    var task = progress.AddTask(Markup.Escape(did), maxValue: 1);
                    await OneAsync(did, new Progress<ImportProgress>(p =>
                    {
                        task.MaxValue = Math.Max(1, p.Total);
                        task.Value = p.Done;
                    }));
                    task.Value = task.MaxValue;
                });
            });
        }
        return [.. dids.Select(d => results[d])];
    }

    private static void Report(CliContext context, List<BackfillOutcome> results)
    {
        if (context.Json)
        {
            context.WriteJson(results.Select(r => new
            {
                did = r.Did,
                outcome = r.Outcome,
                reason = r.Result?.Reason,
                rev = r.Result?.Rev,
                records = r.Result?.RecordCount,
                created = r.Result?.Plan?.Creates,
                updated = r.Result?.Plan?.Updates,
                deleted = r.Result?.Plan?.Deletes,
                unchanged = r.Result?.Plan?.Unchanged,
                car_bytes = r.Result?.CarBytes,
            }));
            return;
        }
        foreach (var r in results)
        {
            context.WriteLine(r switch
            {
                { Outcome: "imported", Result.Plan: { } plan } =>
                    $"{r.Did}: imported at rev {r.Result.Rev}: {r.Result.RecordCount} forum records, {plan.Creates} created, {plan.Updates} updated, {plan.Deletes} deleted, {plan.Unchanged} unchanged",
                { Outcome: "importing_elsewhere" } => $"{r.Did}: being imported by another process (atsync backfill status)",
                _ => $"{r.Did}: failed ({r.Result?.Reason}); the Firehose retries it later",
            });
        }
        var imported = results.Count(r => r.Outcome == "imported");
        context.WriteLine($"{imported} of {results.Count} repositories imported");
    }

    /// <summary>The Firehose's services (importer, DID resolution, appliers, settings), not started: nothing but the imports runs.</summary>
    private static IHost BuildHost()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            DisableDefaults = true, ApplicationName = "atsync-backfill", EnvironmentName = Environments.Production,
        });
        builder.Configuration.AddEnvironmentVariables();
        builder.Logging.ClearProviders();
        // The importer's warnings (a failed import and why) go to standard error, one line each.
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true).AddFilter((_, level) => level >= LogLevel.Warning);
        builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.AddAtSyncDatabase();
        builder.AddFirehose();
        return builder.Build();
    }
}
