namespace AtSync.Tests.Operations;

/// <summary>
/// Both services as processes, working (LiveServices), scraped over HTTP: /metrics is Prometheus text, and it carries
/// every series that the dashboard and the alert rules query (the rules' cAdvisor and mysqld_exporter series aside).
/// </summary>
public sealed class MetricsScrapeTests
{
    [Fact]
    public void The_query_parser_finds_metric_names_and_ignores_functions_labels_ranges_and_grouping()
    {
        Assert.Equal(["atsync_firehose_lag_seconds_bucket"],
            OpsFiles.MetricNames("histogram_quantile(0.99, sum by (le) (rate(atsync_firehose_lag_seconds_bucket{job=\"x\"}[$__rate_interval])))"));
        Assert.Equal(["a_b", "c_d"], OpsFiles.MetricNames("max by (instance) (a_b) / on(instance) max without (job) (c_d{name!=\"\"}) > 0.8").Order());
        Assert.Equal(["container_start_time_seconds"], OpsFiles.MetricNames("changes(container_start_time_seconds{name!=\"\"}[1h]) > 3"));
    }

    [Fact]
    public async Task Live_scrapes_of_both_services_expose_every_metric_the_dashboard_and_the_alert_rules_use()
    {
        await using var live = await LiveServices.StartAsync();
        await live.WaitForWorkDoneAsync(TimeSpan.FromSeconds(120));
        // The worker's housekeeping recounts the queue every second here; give it one round after the last write.
        await Task.Delay(TimeSpan.FromSeconds(2));

        using var firehoseResponse = await live.Firehose.GetAsync("/metrics");
        using var workerResponse = await live.Worker.GetAsync("/metrics");
        Assert.Equal(System.Net.HttpStatusCode.OK, firehoseResponse.StatusCode);
        Assert.StartsWith("text/plain", firehoseResponse.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
        var firehose = await firehoseResponse.Content.ReadAsStringAsync();
        var worker = await workerResponse.Content.ReadAsStringAsync();
        var exposed = OpsFiles.SampleNames(firehose).Union(OpsFiles.SampleNames(worker)).ToHashSet(StringComparer.Ordinal);

        var dashboard = OpsFiles.DashboardQueries();
        Assert.True(dashboard.Count >= 14, "the dashboard lost panels");
        foreach (var (panel, expr) in dashboard)
        {
            var names = OpsFiles.MetricNames(expr);
            Assert.True(names.Count > 0, $"panel '{panel}': no metric in {expr}");
            foreach (var name in names) Assert.True(exposed.Contains(name), $"panel '{panel}' queries {name}, which no live scrape exposes");
        }
        foreach (var rule in OpsFiles.AlertRules())
        {
            var names = OpsFiles.MetricNames(rule.Expr);
            Assert.NotEmpty(names);
            foreach (var name in names.Where(n => !OpsFiles.ExternalExporterPrefixes.Any(p => n.StartsWith(p, StringComparison.Ordinal))))
            {
                Assert.True(exposed.Contains(name), $"alert {rule.Name} uses {name}, which no live scrape exposes");
            }
        }

        // The values follow the work: the dead letter, its reason, the refresh, the relay stream's cursor age.
        Assert.Contains("atsync_queue_dead_letter{otel_scope_name=\"AtSync.QueueWorker\"} 1", worker, StringComparison.Ordinal);
        Assert.Contains("atsync_queue_failed_total{otel_scope_name=\"AtSync.QueueWorker\",reason=\"rejected\"} 1", worker, StringComparison.Ordinal);
        Assert.Contains("atsync_queue_token_refreshes_total{otel_scope_name=\"AtSync.QueueWorker\",result=\"ok\"} 1", worker, StringComparison.Ordinal);
        Assert.Contains("atsync_firehose_cursor_staleness_seconds{otel_scope_name=\"AtSync.Firehose\",stream=\"firehose\"}", firehose, StringComparison.Ordinal);
        Assert.Contains("service_name=\"AtSync.QueueWorker\"", worker, StringComparison.Ordinal);
        Assert.Contains("# TYPE atsync_firehose_events_total counter", firehose, StringComparison.Ordinal);

        // Latency histograms are in seconds (base units), with boundaries from 1 ms (LatencyBuckets), not the
        // millisecond-sized defaults; no series is named in milliseconds.
        Assert.Contains("# TYPE atsync_firehose_batch_commit_latency_seconds histogram", firehose, StringComparison.Ordinal);
        Assert.Contains("# TYPE atsync_queue_write_duration_seconds histogram", worker, StringComparison.Ordinal);
        Assert.Contains("atsync_queue_write_duration_seconds_bucket{", worker, StringComparison.Ordinal);
        Assert.Contains("le=\"0.001\"", worker, StringComparison.Ordinal);
        Assert.DoesNotContain(exposed, name => name.Contains("milliseconds", StringComparison.Ordinal));
        // Seconds, not milliseconds: the loopback PDS answers well within 30 s, so every write is below the top finite bucket.
        var writes = SumOf(worker, "atsync_queue_write_duration_seconds_count");
        Assert.True(writes > 0, "no PDS write was measured");
        Assert.Equal(writes, SumOf(worker, "atsync_queue_write_duration_seconds_bucket", "le=\"30\""));

        // The dead letter (more than 0 but under the threshold) leaves health Healthy; the queue-backlog check reports it.
        using var health = await live.Worker.GetAsync("/health");
        var body = await health.Content.ReadAsStringAsync();
        Assert.Equal(System.Net.HttpStatusCode.OK, health.StatusCode);
        Assert.Contains("\"queue-backlog\":{\"status\":\"Healthy\",\"description\":\"0 pending, 1 dead letters\"}", body, StringComparison.Ordinal);
    }

    /// <summary>The sum of every sample of <paramref name="name"/> (optionally only those whose labels contain <paramref name="label"/>).</summary>
    private static double SumOf(string exposition, string name, string? label = null) =>
        exposition.Split('\n')
            .Where(line => line.StartsWith(name + "{", StringComparison.Ordinal) || line.StartsWith(name + " ", StringComparison.Ordinal))
            .Where(line => label is null || line.Contains(label, StringComparison.Ordinal))
            // "name{labels} value [timestamp]"
            .Sum(line => double.Parse(line[(Math.Max(line.LastIndexOf('}'), name.Length - 1) + 1)..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture));
}
